// Transcripts beside HTML5 videos. Each caption is a link to the video at
// its time, which works without this script; with it, a click seeks the
// video in the page and the caption being spoken is highlighted.
(function () {
  "use strict";

  function playerFor(list) {
    var video = list && document.getElementById(list.getAttribute("data-video"));
    return video && video.tagName === "VIDEO" ? video : null;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.cue[data-start]");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    var video = playerFor(link.closest(".transcript-cues"));
    if (!video) return; // a YouTube link: let it open
    event.preventDefault();
    video.currentTime = parseFloat(link.getAttribute("data-start")) || 0;
    var playing = video.play();
    if (playing && playing.catch) playing.catch(function () {});
  });

  function highlight(video) {
    var lists = document.querySelectorAll(".transcript-cues[data-video]");
    for (var l = 0; l < lists.length; l++) {
      var list = lists[l];
      if (list.getAttribute("data-video") !== video.id) continue;
      var cues = list.querySelectorAll("a.cue[data-start]");
      var current = null;
      for (var i = 0; i < cues.length; i++) {
        if (parseFloat(cues[i].getAttribute("data-start")) <= video.currentTime + 0.05) current = cues[i];
        else break;
      }
      var old = list.querySelector("a.cue.current");
      if (old === current) continue;
      if (old) { old.classList.remove("current"); old.removeAttribute("aria-current"); }
      if (!current) continue;
      current.classList.add("current");
      current.setAttribute("aria-current", "true");
      // Keep the caption in view by scrolling the list, not the page.
      var item = current.parentNode;
      if (item.offsetTop < list.scrollTop || item.offsetTop + item.offsetHeight > list.scrollTop + list.clientHeight) {
        list.scrollTop = item.offsetTop - list.clientHeight / 3;
      }
    }
  }

  // Media events do not bubble; listen in the capture phase.
  document.addEventListener("timeupdate", function (event) {
    if (event.target && event.target.tagName === "VIDEO" && event.target.id) highlight(event.target);
  }, true);
  document.addEventListener("seeked", function (event) {
    if (event.target && event.target.tagName === "VIDEO" && event.target.id) highlight(event.target);
  }, true);

  // Tracking events (Open edX's names and fields) to POST /event, for the
  // course team's analytics (docs/tracking.md). Best effort: a lost event
  // never disturbs the video.
  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)lectern_csrf=([0-9a-fA-F]+)/);
    return m ? m[1] : "";
  }
  function send(type, fields) {
    if (!window.fetch) return;
    var body = new URLSearchParams();
    body.append("event_type", type);
    body.append("event", JSON.stringify(fields));
    body.append("page", window.location.href);
    body.append("csrf_token", csrfToken());
    fetch("/event", { method: "POST", body: body, credentials: "same-origin", keepalive: true })
      .catch(function () {});
  }
  function isPlayer(target) {
    return target && target.tagName === "VIDEO" && target.id && target.id.indexOf("video-") === 0;
  }
  function base(video) {
    return { id: video.id.slice("video-".length), code: "html5" };
  }
  function round(t) { return Math.round((t || 0) * 1000) / 1000; }
  var lastTime = {}, lastSpeed = {};
  function on(type, handler) {
    document.addEventListener(type, function (event) {
      if (isPlayer(event.target)) handler(event.target);
    }, true);
  }
  on("loadedmetadata", function (v) {
    lastSpeed[v.id] = v.playbackRate;
    var e = base(v); e.duration = round(v.duration);
    send("load_video", e);
  });
  on("play", function (v) { var e = base(v); e.currentTime = round(v.currentTime); send("play_video", e); });
  on("pause", function (v) {
    if (v.ended) return; // "ended" says it
    var e = base(v); e.currentTime = round(v.currentTime); send("pause_video", e);
  });
  on("ended", function (v) { var e = base(v); e.currentTime = round(v.currentTime); send("stop_video", e); });
  on("timeupdate", function (v) { if (!v.seeking) lastTime[v.id] = v.currentTime; });
  on("seeked", function (v) {
    var e = base(v);
    e.old_time = round(lastTime[v.id]); e.new_time = round(v.currentTime); e.type = "onSlideSeek";
    lastTime[v.id] = v.currentTime;
    send("seek_video", e);
  });
  on("ratechange", function (v) {
    var e = base(v);
    e.current_time = round(v.currentTime);
    e.old_speed = String(lastSpeed[v.id] || 1); e.new_speed = String(v.playbackRate);
    lastSpeed[v.id] = v.playbackRate;
    send("speed_change_video", e);
  });
})();

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
})();

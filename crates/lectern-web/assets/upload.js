// Progressive enhancement for Studio's course upload: shows a progress bar
// while the archive uploads. Without JavaScript the form posts as usual.
document.querySelectorAll("form[data-upload]").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    if (!window.XMLHttpRequest || !window.FormData) return;
    event.preventDefault();
    var bar = form.querySelector("progress");
    var status = form.querySelector("[data-status]");
    bar.hidden = false;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) { bar.max = e.total; bar.value = e.loaded; }
      status.textContent = e.lengthComputable && e.loaded >= e.total ? "Checking and importing…" : "Uploading…";
    };
    xhr.onload = function () {
      document.open(); document.write(xhr.responseText); document.close();
      history.replaceState(null, "", xhr.responseURL || form.action);
    };
    xhr.onerror = function () { status.textContent = "The upload failed; check your connection and try again."; };
    xhr.send(new FormData(form));
  });
});

// Progressive enhancement for problems: submit, save, reset and show answer
// without leaving the page. The forms post normally when this does not run.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.matches || !form.matches("form[action*='/problem/']") || !window.fetch) return;
  event.preventDefault();
  var body = new URLSearchParams(new FormData(form));
  if (event.submitter && event.submitter.name) body.append(event.submitter.name, event.submitter.value);
  var section = form.closest("section.block");
  // getAttribute: the buttons named "action" shadow the form's `action` property.
  fetch(form.getAttribute("action"), { method: "POST", body: body, credentials: "same-origin" })
    .then(function (r) { return r.text().then(function (html) { return { url: r.url, html: html }; }); })
    .then(function (res) {
      var doc = new DOMParser().parseFromString(res.html, "text/html");
      var fresh = section && doc.getElementById(section.id);
      if (fresh) { section.replaceWith(fresh); } else { window.location = res.url; }
    })
    .catch(function () { form.submit(); });
});

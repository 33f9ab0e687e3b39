// MathJax configuration for Lectern pages (loaded before the vendored
// MathJax, both by <script src defer>). The delimiters are Open edX's:
// \( \) inline and \[ \] display; the server has already turned Open edX's
// [mathjaxinline]/[mathjax] markers into these. Like Open edX, $ and $$ are
// left as text.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: false,
    processEnvironments: true
  },
  svg: { fontCache: "global" },
  startup: {
    ready: function () {
      "use strict";
      window.MathJax.startup.defaultReady();
      // Problem forms replace their section with the server's fresh HTML
      // (problem.js); typeset whatever new content arrives.
      if (!window.MutationObserver) return;
      var pending = [];
      var scheduled = false;
      new MutationObserver(function (records) {
        records.forEach(function (r) {
          r.addedNodes.forEach(function (n) {
            if (n.nodeType === 1 && !n.closest("mjx-container")) pending.push(n);
          });
        });
        if (!pending.length || scheduled) return;
        scheduled = true;
        window.MathJax.startup.promise = window.MathJax.startup.promise.then(function () {
          var nodes = pending.filter(function (n) { return n.isConnected; });
          pending = [];
          scheduled = false;
          return nodes.length ? window.MathJax.typesetPromise(nodes) : null;
        }).catch(function () { scheduled = false; });
      }).observe(document.querySelector("main") || document.body, { childList: true, subtree: true });
    }
  }
};

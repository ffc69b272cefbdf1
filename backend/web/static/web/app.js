// The residents' installable app: registers the service worker (/sw.js, scope "/"). The
// crew app (/crew/) has a worker of its own and does not load this file's worker.
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.getAttribute("data-sw");
  if (!url || !("serviceWorker" in navigator) || location.pathname.indexOf("/crew/") === 0) return;
  window.addEventListener("load", function () {
    navigator.serviceWorker.register(url, { scope: "/" }).catch(function () {
      // No worker (private mode, an old browser): the pages work as plain pages.
    });
  });
})();

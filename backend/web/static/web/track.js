// Live updates of the track page: a websocket push (/ws/requests/<id>/) triggers a refresh
// of the live part; polling its JSON every few seconds is the fallback. No page reload.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) return;
  var url = live.getAttribute("data-live-url");
  var pollMs = (parseInt(live.getAttribute("data-poll-seconds"), 10) || 10) * 1000;
  var current = live.innerHTML;
  var busy = false;
  var pending = null;

  // data-updated-by says which path brought the last change ("websocket" or "poll").
  function refresh(via) {
    if (busy) { pending = via; return; } // fetched again once the current fetch ends
    busy = true;
    fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (body && body.html && body.html !== current) {
          current = body.html;
          live.innerHTML = body.html;
          live.setAttribute("data-updated-by", via);
          document.dispatchEvent(new CustomEvent("city311:request-updated", { detail: body }));
        }
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (pending) { var next = pending; pending = null; refresh(next); }
      });
  }

  function connect(delay) {
    if (!window.WebSocket) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket;
    try {
      socket = new WebSocket(scheme + location.host + live.getAttribute("data-ws-path"));
    } catch (e) { return; }
    socket.onmessage = function () { refresh("websocket"); };
    socket.onopen = function () { delay = 1000; live.setAttribute("data-websocket", "open"); };
    socket.onclose = function (event) {
      live.setAttribute("data-websocket", "closed");
      if (event.code === 4404) return; // no such request: nothing will ever come
      setTimeout(function () { connect(Math.min(delay * 2, 60000)); }, delay);
    };
  }

  connect(1000);
  setInterval(function () { refresh("poll"); }, pollMs);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) refresh("poll");
  });
})();

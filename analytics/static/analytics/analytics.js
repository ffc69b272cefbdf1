/* city311 analytics pages: charts (Chart.js, vendored), the hotspot map (Leaflet, vendored)
   and the live counters (/ws/analytics/, re-read from the API every minute). The pages' tables
   are rendered on the server; this only adds to them. */
(function () {
  "use strict";

  function data(id) {
    var node = document.getElementById(id || "analytics-data");
    return node ? JSON.parse(node.textContent) : null;
  }

  function chart(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas || typeof Chart === "undefined") { return null; }
    config.options = Object.assign({ animation: false, responsive: true }, config.options || {});
    return new Chart(canvas, config);
  }

  function setCounters(values) {
    Object.keys(values).forEach(function (key) {
      var node = document.querySelector('[data-counter="' + key + '"]');
      if (node) { node.textContent = values[key]; }
    });
  }

  function bump(key, delta) {
    var node = document.querySelector('[data-counter="' + key + '"]');
    if (!node) { return; }
    node.textContent = String(Math.max(0, (parseInt(node.textContent, 10) || 0) + delta));
    node.classList.add("bumped");
    setTimeout(function () { node.classList.remove("bumped"); }, 800);
  }

  function live() {
    var section = document.querySelector("[data-live-url]");
    if (!section) { return; }
    var url = section.getAttribute("data-live-url");
    var status = section.querySelector("[data-live-status]");
    function reload() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) { if (body) { setCounters(body.total); } })
        .catch(function () {});
    }
    setInterval(reload, 60000); // time alone makes requests overdue
    function connect(delay) {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      var socket = new WebSocket(scheme + location.host + "/ws/analytics/");
      socket.onmessage = function (message) {
        var event = JSON.parse(message.data);
        if (event.type === "subscribed") { if (status) { status.textContent = "(live)"; } return; }
        if (event.type !== "event") { return; }
        if (event.event === "created") { bump("open", 1); bump("created_today", 1); }
        if (event.event === "closed") { bump("open", -1); bump("closed_today", 1); }
        if (event.event === "reopened") { bump("open", 1); }
      };
      socket.onclose = function (e) {
        if (status) { status.textContent = "(reconnecting…)"; }
        if (e.code === 4401 || e.code === 4403) { return; }
        setTimeout(function () { reload(); connect(Math.min(delay * 2, 60000)); }, delay);
      };
    }
    if ("WebSocket" in window) { connect(2000); }
  }

  function scorecard() {
    var d = data();
    live();
    if (!d) { return; }
    chart("scores-chart", {
      type: "bar",
      data: {
        labels: d.departments.map(function (r) { return r.name; }),
        datasets: [{ label: "Score (1 = on target)", data: d.departments.map(function (r) { return r.score; }),
                     backgroundColor: d.departments.map(function (r) { return r.score !== null && r.score < 1 ? "#b00020" : "#2e7d32"; }) }]
      },
      options: { scales: { y: { beginAtZero: true } } }
    });
  }

  function department() {
    var d = data();
    if (!d) { return; }
    chart("age-chart", {
      type: "bar",
      data: { labels: d.backlog.by_age.map(function (b) { return b.bucket + " days"; }),
              datasets: [{ label: "Open requests", data: d.backlog.by_age.map(function (b) { return b.open; }), backgroundColor: "#163a5f" }] }
    });
    var days = d.trend.map(function (t) { return t.day; });
    chart("ttc-chart", {
      type: "line",
      data: { labels: days, datasets: [
        { label: "Time to close p50 (h)", data: d.trend.map(function (t) { return t.ttc_p50_h; }), borderColor: "#163a5f", pointRadius: 0 },
        { label: "p90 (h)", data: d.trend.map(function (t) { return t.ttc_p90_h; }), borderColor: "#b00020", pointRadius: 0 }
      ] }
    });
    chart("ontime-chart", {
      type: "line",
      data: { labels: days, datasets: [
        { label: "Closed on time (share)", data: d.trend.map(function (t) { return t.on_time_share; }), borderColor: "#2e7d32", pointRadius: 0 }
      ] },
      options: { scales: { y: { min: 0, max: 1 } } }
    });
  }

  function team() {
    var d = data();
    if (!d) { return; }
    var statuses = Object.keys(d.open_by_status);
    chart("status-chart", {
      type: "bar",
      data: { labels: statuses, datasets: [{ label: "Open orders", data: statuses.map(function (s) { return d.open_by_status[s]; }), backgroundColor: "#163a5f" }] },
      options: { indexAxis: "y" }
    });
  }

  function hotspots() {
    var d = data();
    if (!d || typeof L === "undefined" || !document.getElementById("map")) { return; }
    L.Icon.Default.imagePath = "/static/web/vendor/leaflet/images/";
    var mapEl = document.getElementById("map");
    var map = L.map("map");
    var tiles = mapEl.getAttribute("data-tile-url");
    if (tiles) { L.tileLayer(tiles, { maxZoom: 19, attribution: mapEl.getAttribute("data-attribution") }).addTo(map); }
    var max = d.cells.reduce(function (m, c) { return Math.max(m, c.count); }, 1);
    var group = L.featureGroup().addTo(map);
    d.cells.forEach(function (c) {
      var b = c.bounds; // [west, south, east, north]
      L.rectangle([[b[1], b[0]], [b[3], b[2]]], {
        weight: 0, fillColor: "#d95f02", fillOpacity: 0.1 + 0.75 * c.count / max
      }).bindTooltip(c.count + " requests").addTo(group);
    });
    d.overdue.forEach(function (p) {
      L.circleMarker([p.lat, p.long], { radius: 3, color: "#b00020", weight: 1 })
        .bindTooltip(p.public_id + ": " + p.days_overdue + " days overdue").addTo(group);
    });
    if (group.getLayers().length) { map.fitBounds(group.getBounds()); } else { map.setView([42.36, -71.06], 12); }
  }

  var pages = { scorecard: scorecard, department: department, team: team, hotspots: hotspots };
  window.city311Analytics = pages;
  // No inline script (the CSP allows 'self' only): the page names itself on <body>.
  document.addEventListener("DOMContentLoaded", function () {
    var init = pages[document.body.getAttribute("data-page")];
    if (init) { init(); }
  });
})();

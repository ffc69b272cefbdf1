// The supervisor console's dispatch map: the filtered open orders (from map.json) as
// markers, their shape by status and "!" when overdue; each popup assigns the order to a
// team through the JSON API (POST /api/v1/workorders/<id>/assign, session + CSRF). The
// server decides and answers: refused, its message is shown; done, the map and the team
// workload are read again. No words of its own: the page passes them in (#dispatch-strings).
// Without this script the page's table and plain forms do everything.
(function () {
  "use strict";
  var mapEl = document.getElementById("dispatch-map");
  var section = document.getElementById("dispatch-map-section");
  if (!mapEl || !section || !window.L || !window.fetch) return;
  var L = window.L;
  var strings = JSON.parse(document.getElementById("dispatch-strings").textContent);
  var teams = JSON.parse(document.getElementById("dispatch-teams").textContent);
  var statusBox = document.getElementById("dispatch-status");
  var countBox = document.getElementById("dispatch-count");
  var workloadBox = document.getElementById("workload");
  var csrfInput = document.querySelector("input[name=csrfmiddlewaretoken]");

  function fmt(template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (_, key) {
      return values[key] === undefined || values[key] === null ? "" : String(values[key]);
    });
  }
  function say(text) { statusBox.textContent = text; }
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : (csrfInput ? csrfInput.value : "");
  }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  section.hidden = false;
  var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var map = L.map(mapEl, {
    zoomControl: false, keyboard: true,
    fadeAnimation: !still, zoomAnimation: !still, markerZoomAnimation: !still,
  });
  // Bottom left: popups open above their marker, clear of it.
  L.control.zoom({ position: "bottomleft", zoomInTitle: strings.zoom_in, zoomOutTitle: strings.zoom_out }).addTo(map);
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  var tiles = mapEl.getAttribute("data-tile-url");
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 19, attribution: mapEl.getAttribute("data-attribution") }).addTo(map);
  }
  map.setView([parseFloat(mapEl.getAttribute("data-lat")) || 0,
               parseFloat(mapEl.getAttribute("data-long")) || 0], 13);
  var layer = L.layerGroup().addTo(map);
  var markers = {};
  var orders = {};
  var fitted = false;
  var rendering = false;
  var reopen = null; // {id, message}: the popup to show again after the map is read again

  function icon(order) {
    var html = '<span class="dm-shape"></span>' + (order.overdue ? '<span class="dm-glyph">!</span>' : "");
    return L.divIcon({
      className: "dm-marker dm-" + order.status + (order.overdue ? " dm-late" : ""),
      html: html,
      iconSize: [44, 44],
      iconAnchor: [22, 22],
      popupAnchor: [0, -16],
    });
  }

  function row(list, term, value, className) {
    list.appendChild(el("dt", "", term));
    list.appendChild(el("dd", className || "", value));
  }

  function popupContent(order) {
    var box = el("div", "dm-popup");
    box.setAttribute("data-order", order.id);
    var title = el("p", "dm-popup-title");
    var link = el("a", "", "WO-" + order.id);
    link.href = order.url;
    link.setAttribute("aria-label", fmt(strings.open_order, { id: order.id }));
    title.appendChild(link);
    box.appendChild(title);
    var list = el("dl");
    row(list, strings.service, order.service);
    row(list, strings.address, order.address || strings.no_address);
    row(list, strings.due, (order.due || strings.no_due) + (order.overdue ? " — " + strings.overdue : ""),
        order.overdue ? "late" : "");
    row(list, strings.status, order.status_label);
    row(list, strings.team, order.team || strings.not_assigned);
    box.appendChild(list);
    var message = el("p", "dm-popup-msg");
    if (order.assignable) {
      var form = el("form");
      var selectId = "dm-team-" + order.id;
      var label = el("label", "", strings.assign_to_team);
      label.htmlFor = selectId;
      var select = el("select");
      select.id = selectId;
      select.name = "team";
      select.appendChild(new Option(strings.least_loaded, ""));
      teams.forEach(function (team) {
        select.appendChild(new Option(team.name, String(team.id), false, team.id === order.team_id));
      });
      var button = el("button", "", strings.assign);
      button.type = "submit";
      form.appendChild(label);
      form.appendChild(select);
      form.appendChild(button);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        assign(order, select.value, button, message);
      });
      box.appendChild(form);
    }
    box.appendChild(message);
    if (reopen && reopen.id === order.id) message.textContent = reopen.message;
    box.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); map.closePopup(); }
    });
    return box;
  }

  function focusMarker(id) {
    var marker = markers[id];
    var node = marker && marker.getElement();
    if (node) node.focus();
  }

  map.on("popupopen", function (event) {
    var node = event.popup.getElement();
    var content = node.querySelector(".dm-popup");
    var order = content && orders[content.getAttribute("data-order")];
    node.setAttribute("role", "dialog");
    if (order) node.setAttribute("aria-label", order.label);
    var close = node.querySelector(".leaflet-popup-close-button");
    if (close) { close.setAttribute("aria-label", strings.close); close.title = strings.close; }
    var first = node.querySelector(".dm-popup a, .dm-popup select");
    if (first) first.focus();
  });

  function render(data) {
    rendering = true;
    map.closePopup();
    layer.clearLayers();
    rendering = false;
    markers = {};
    orders = {};
    var points = [];
    data.orders.forEach(function (order) {
      var marker = L.marker([order.lat, order.long], { icon: icon(order), keyboard: true, riseOnHover: true });
      marker.bindPopup(function () { return popupContent(order); },
                       { minWidth: 220, maxWidth: 320, autoPanPadding: [16, 16] });
      marker.on("popupclose", function (event) {
        // Back to the marker when the focus was in the popup (closed, Escape), not when it
        // moved on (another marker) or the map is being read again.
        if (rendering) return;
        var node = event.popup.getElement();
        var active = document.activeElement;
        if (!active || active === document.body || (node && node.contains(active))) focusMarker(order.id);
      });
      marker.addTo(layer);
      var node = marker.getElement();
      node.setAttribute("aria-label", order.label);
      node.setAttribute("aria-haspopup", "dialog");
      node.setAttribute("data-order", order.id);
      node.addEventListener("keydown", function (event) {
        if (event.key === " ") { event.preventDefault(); marker.openPopup(); }
      });
      markers[order.id] = marker;
      orders[order.id] = order;
      points.push([order.lat, order.long]);
    });
    if (typeof data.workload_html === "string") workloadBox.innerHTML = data.workload_html;
    countBox.textContent = data.capped ? fmt(strings.capped, { count: data.cap })
                                       : fmt(strings.shown, { count: data.orders.length });
    if (!fitted) {
      fitted = true;
      if (points.length) {
        map.fitBounds(points, { padding: [32, 32], maxZoom: 16 });
      } else if (data.extent) {
        map.fitBounds([[data.extent[1], data.extent[0]], [data.extent[3], data.extent[2]]],
                      { padding: [32, 32], maxZoom: 16 });
      }
    }
    var again = reopen && markers[reopen.id];
    if (again) again.openPopup();
    reopen = null;
    mapEl.setAttribute("data-orders", String(data.orders.length));
  }

  function load() {
    mapEl.setAttribute("aria-busy", "true");
    return fetch(mapEl.getAttribute("data-url"), {
      headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store",
    })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(render)
      .catch(function () { say(strings.load_failed); })
      .then(function () { mapEl.setAttribute("aria-busy", "false"); });
  }

  // The table's row of the order shows what the server answered.
  function showInTable(answer) {
    var team = document.querySelector('[data-cell="team"][data-order="' + answer.id + '"]');
    if (team && answer.team) team.textContent = answer.team.name;
    var status = document.querySelector('[data-cell="status"][data-order="' + answer.id + '"]');
    if (status) status.textContent = strings.statuses[answer.status] || answer.status;
    var select = document.getElementById("team-" + answer.id);
    if (select && answer.team) select.value = String(answer.team.id);
  }

  function assign(order, team, button, message) {
    button.disabled = true;
    var busy = fmt(strings.assigning, { id: order.id });
    message.textContent = busy;
    say(busy);
    fetch(order.assign_url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ team: team ? parseInt(team, 10) : null }),
    })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          return { ok: response.ok, body: body };
        });
      })
      .then(function (answer) {
        if (!answer.ok) {
          var refused = fmt(strings.refused, { id: order.id, reason: answer.body.detail || "" });
          message.textContent = refused;
          say(refused);
          button.disabled = false;
          return null;
        }
        var done = fmt(strings.assigned, { id: order.id, team: answer.body.team ? answer.body.team.name : "" });
        showInTable(answer.body);
        say(done);
        reopen = { id: order.id, message: done };
        return load();
      }, function () {
        message.textContent = strings.unreachable;
        say(strings.unreachable);
        button.disabled = false;
      });
  }

  load();
})();

// Enhances the report form: only the chosen service's questions, a map pin (Leaflet),
// "use my location" and open reports nearby. The form works without any of it.
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) return;
  var latInput = document.getElementById("lat");
  var longInput = document.getElementById("long");
  var nearbyBox = document.getElementById("nearby");

  function chosenService() {
    var checked = form.querySelector("input[name=service_code]:checked");
    return checked ? checked.value : "";
  }

  // Attribute fields: show the chosen service's only, without their per-service title.
  function showAttributes() {
    var code = chosenService();
    form.querySelectorAll(".attributes").forEach(function (box) {
      var mine = box.getAttribute("data-service") === code;
      box.hidden = !mine;
      box.querySelectorAll("input, select, textarea").forEach(function (el) { el.disabled = !mine; });
      var title = box.querySelector(".attributes-title");
      if (title) title.classList.add("visually-hidden");
    });
    lookNearby();
  }
  form.querySelectorAll("input[name=service_code]").forEach(function (radio) {
    radio.addEventListener("change", showAttributes);
  });

  // Open reports of the same service near the pin.
  var nearbyTimer = null;
  function lookNearby() {
    clearTimeout(nearbyTimer);
    nearbyTimer = setTimeout(function () {
      var code = chosenService();
      if (!code || !latInput.value || !longInput.value) { nearbyBox.hidden = true; return; }
      var url = form.getAttribute("data-nearby-url") + "?service_code=" + encodeURIComponent(code) +
        "&lat=" + encodeURIComponent(latInput.value) + "&long=" + encodeURIComponent(longInput.value);
      fetch(url, { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (body) {
          var list = nearbyBox.querySelector("ul");
          list.textContent = "";
          (body.results || []).forEach(function (item) {
            var li = document.createElement("li");
            var a = document.createElement("a");
            a.href = item.url;
            a.textContent = item.public_id;
            li.appendChild(a);
            li.appendChild(document.createTextNode(" · " + item.status));
            list.appendChild(li);
          });
          nearbyBox.hidden = !(body.results && body.results.length);
        })
        .catch(function () { nearbyBox.hidden = true; });
    }, 300);
  }

  // The map: a pin where the resident clicks; tiles only when a tile URL is configured.
  var mapEl = document.getElementById("map");
  var marker = null;
  var map = null;
  function setPin(lat, lng, pan) {
    latInput.value = lat.toFixed(6);
    longInput.value = lng.toFixed(6);
    if (map) {
      if (marker) marker.setLatLng([lat, lng]);
      else marker = window.L.marker([lat, lng], { keyboard: true, title: "📍" }).addTo(map);
      if (pan) map.setView([lat, lng], Math.max(map.getZoom(), 17));
    }
    lookNearby();
  }
  if (mapEl && window.L) {
    mapEl.hidden = false;
    document.querySelector(".map-help").hidden = false;
    var center = [parseFloat(mapEl.getAttribute("data-lat")) || 0,
                  parseFloat(mapEl.getAttribute("data-long")) || 0];
    window.L.Icon.Default.imagePath = mapEl.getAttribute("data-icons") || window.L.Icon.Default.imagePath;
    map = window.L.map(mapEl).setView(center, 15);
    var tiles = mapEl.getAttribute("data-tile-url");
    if (tiles) {
      window.L.tileLayer(tiles, { maxZoom: 19, attribution: mapEl.getAttribute("data-attribution") }).addTo(map);
    }
    map.on("click", function (e) { setPin(e.latlng.lat, e.latlng.lng, false); });
    if (latInput.value && longInput.value) setPin(parseFloat(latInput.value), parseFloat(longInput.value), true);
  }
  [latInput, longInput].forEach(function (el) { el.addEventListener("change", lookNearby); });

  // "Use my location".
  var locate = document.getElementById("locate");
  var status = document.getElementById("locate-status");
  if (locate && navigator.geolocation) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      status.textContent = locate.getAttribute("data-finding") || "…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        status.textContent = "";
        setPin(pos.coords.latitude, pos.coords.longitude, true);
      }, function (err) {
        status.textContent = err.message;
      }, { enableHighAccuracy: true, timeout: 15000 });
    });
  }

  showAttributes();
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();

// Enhances the report form: only the chosen service's questions, a map pin (Leaflet),
// "use my location", open reports nearby, photos shrunk and checked on the phone, and a report
// composed offline kept on the phone and filed when the network is back. The form works
// without any of it.
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

  function clearPin() {
    if (marker && map) map.removeLayer(marker);
    marker = null;
  }

  // --- Photos: shrunk on the phone when shrink.js is there (keeping their EXIF time and
  // position), and refused before upload when still over the server's limit.
  var configEl = document.getElementById("report-app");
  var app = configEl ? JSON.parse(configEl.textContent) : null;
  var queue = window.city311ReportQueue;
  var photoInput = document.getElementById("photos");
  var photoError = document.getElementById("photos-phone-error");

  function say(name, values) {
    var text = (app && app.strings[name]) || "";
    Object.keys(values || {}).forEach(function (key) {
      text = text.split("%(" + key + ")s").join(values[key]);
    });
    return text;
  }

  function showPhotoError(message) {
    photoError.textContent = message;
    photoError.hidden = false;
    photoInput.setAttribute("aria-invalid", "true");
    photoInput.setAttribute("aria-describedby", "photos-phone-error");
    photoInput.focus();
  }

  function clearPhotoError() {
    if (photoError.hidden) return;
    photoError.hidden = true;
    photoError.textContent = "";
    photoInput.removeAttribute("aria-invalid");
    photoInput.removeAttribute("aria-describedby");
  }

  function preparedPhotos() {
    var files = Array.prototype.slice.call(photoInput.files || []);
    if (files.length > app.photo_max_count) return Promise.reject(say("too_many"));
    return Promise.all(files.map(function (file) {
      var shrunk = window.city311Shrink
        ? window.city311Shrink.shrinkPhoto(file).catch(function () { return file; })
        : Promise.resolve(file);
      return shrunk.then(function (blob) {
        if (blob.size > app.photo_max_bytes) throw say("too_big", { name: file.name });
        var type = blob.type || file.type;
        var kept = blob instanceof File ? blob : new File([blob], file.name, { type: type });
        return { name: file.name, type: type, blob: kept, changed: blob !== file };
      });
    }));
  }

  function useFiles(photos) {
    if (!photos.some(function (p) { return p.changed; }) || !window.DataTransfer) return;
    var files = new DataTransfer();
    photos.forEach(function (p) { files.items.add(p.blob); });
    try { photoInput.files = files.files; } catch (e) { /* the originals go as they are */ }
  }

  // --- Offline: the report is kept on the phone (report-queue.js: IndexedDB, the photos as
  // Blobs, one Idempotency-Key made now) and filed through the app's intake when the network
  // is back: on the `online` event, on the next page load, or by the worker's Background Sync.
  var outbox = document.getElementById("outbox");
  var doneBox = document.createElement("div");
  var waitBox = document.createElement("div");
  if (outbox) { outbox.appendChild(doneBox); outbox.appendChild(waitBox); }
  var confirmed = {};

  function csrfToken() {
    var name = (app && app.csrf_cookie) || "csrftoken";
    var found = document.cookie.split(/;\s*/).filter(function (part) {
      return part.indexOf(name + "=") === 0;
    })[0];
    if (found) return decodeURIComponent(found.slice(name.length + 1));
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function element(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text) el.textContent = text;
    return el;
  }

  // The form as the app's intake reads it (the chosen service's questions only: the others
  // are disabled), and as typed (to put it back in the form).
  function formParts() {
    var prefix = "attr-" + chosenService() + "-";
    var fields = [];
    var typed = [];
    var attributes = {};
    new FormData(form).forEach(function (value, name) {
      if (typeof value !== "string" || name === "csrfmiddlewaretoken") return;
      typed.push([name, value]);
      if (value === "") return;
      if (name.indexOf(prefix) === 0) {
        var code = name.slice(prefix.length);
        var control = form.querySelector('[name="' + window.CSS.escape(name) + '"]');
        if (control && control.type === "checkbox") (attributes[code] = attributes[code] || []).push(value);
        else attributes[code] = value;
      } else if (name.indexOf("contact_") === 0) {
        fields.push(["contact[" + name.slice(8) + "]", value]);
      } else if (name.indexOf("attr-") !== 0) {
        fields.push([name, value]);
      }
    });
    fields.push(["attributes", JSON.stringify(attributes)]);
    fields.push(["language", (document.documentElement.lang || "en").slice(0, 2)]);
    return { fields: fields, typed: typed };
  }

  function registerSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.sync) return registration.sync.register(queue.SYNC_TAG);
    }).catch(function () { /* the online event and the next page load still send it */ });
  }

  function keep(photos) {
    var parts = formParts();
    var record = {
      key: queue.newKey(),
      url: app.submit_url,
      createdAt: Date.now(),
      fields: parts.fields,
      typed: parts.typed,
      photos: photos.map(function (p) { return { name: p.name, type: p.type, blob: p.blob }; }),
      csrfToken: csrfToken(),
      state: "waiting",
    };
    return queue.save(record).then(function () {
      form.reset();
      clearPin();
      showAttributes();
      registerSync();
      return refresh().then(function () {
        var first = waitBox.querySelector(".outbox-item");
        if (first) first.focus();
      });
    }, function () { showPhotoError(say("no_storage")); });
  }

  function putBack(record) {
    form.reset();
    clearPin();
    record.typed.forEach(function (pair) {
      form.querySelectorAll('[name="' + window.CSS.escape(pair[0]) + '"]').forEach(function (control) {
        if (control.type === "radio" || control.type === "checkbox") {
          if (control.value === pair[1]) control.checked = true;
        } else if (control.tagName === "SELECT" && control.multiple) {
          Array.prototype.forEach.call(control.options, function (o) { if (o.value === pair[1]) o.selected = true; });
        } else {
          control.value = pair[1];
        }
      });
    });
    if (window.DataTransfer && record.photos.length) {
      var files = new DataTransfer();
      record.photos.forEach(function (p) {
        files.items.add(p.blob instanceof File ? p.blob : new File([p.blob], p.name, { type: p.type }));
      });
      try { photoInput.files = files.files; } catch (e) { /* the photos must be chosen again */ }
    }
    showAttributes();
    if (latInput.value && longInput.value) setPin(parseFloat(latInput.value), parseFloat(longInput.value), true);
    return queue.remove(record.key).then(refresh).then(function () {
      var checked = form.querySelector("input[name=service_code]:checked") || form.querySelector("input[name=service_code]");
      if (checked) checked.focus();
    });
  }

  function waitingItem() {
    var item = element("div", "outbox-item waiting", say("saved"));
    item.tabIndex = -1;
    return item;
  }

  function refusedItem(record) {
    var item = element("div", "outbox-item refused");
    item.tabIndex = -1;
    item.appendChild(element("p", "", say("refused")));
    var list = element("ul");
    Object.keys(record.errors || {}).forEach(function (field) {
      (record.errors[field] || []).forEach(function (message) { list.appendChild(element("li", "", message)); });
    });
    if (!list.children.length && record.detail) list.appendChild(element("li", "", record.detail));
    item.appendChild(list);
    var edit = element("button", "primary", say("edit"));
    edit.type = "button";
    edit.addEventListener("click", function () { putBack(record); });
    var discard = element("button", "", say("discard"));
    discard.type = "button";
    discard.addEventListener("click", function () { queue.remove(record.key).then(refresh); });
    item.appendChild(edit);
    item.appendChild(discard);
    return item;
  }

  // A report filed: its number and expected turnaround, as the page after an online filing
  // shows them (the server's sentence), then it leaves the phone.
  function confirmFiled(record) {
    var id = record.publicId;
    if (!confirmed[record.key]) {
      confirmed[record.key] = true;
      var box = element("div", "confirmation");
      box.setAttribute("data-public-id", id);
      box.appendChild(element("h2", "", say("sent")));
      var number = element("p");
      var sentence = say("number").split("%(id)s");
      number.appendChild(document.createTextNode(sentence[0]));
      number.appendChild(element("strong", "public-id", id));
      number.appendChild(document.createTextNode(sentence.slice(1).join(id)));
      box.appendChild(number);
      var turnaround = element("p", "turnaround");
      box.appendChild(turnaround);
      var link = element("a", "", say("follow"));
      link.href = app.track_url.replace(app.id_slot, encodeURIComponent(id));
      var linkLine = element("p");
      linkLine.appendChild(link);
      box.appendChild(linkLine);
      doneBox.appendChild(box);
      fetch(app.track_live_url.replace(app.id_slot, encodeURIComponent(id)), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : {}; })
        .then(function (body) { turnaround.textContent = body.turnaround || ""; })
        .catch(function () { /* the link shows it */ });
      document.dispatchEvent(new CustomEvent("city311:filed", { detail: { public_id: id } }));
    }
    return queue.remove(record.key);
  }

  function show(records) {
    waitBox.textContent = "";
    var filed = [];
    records.forEach(function (record) {
      if (record.state === "sent") filed.push(confirmFiled(record));
      else if (record.state === "refused") waitBox.appendChild(refusedItem(record));
      else waitBox.appendChild(waitingItem(record));
    });
    return Promise.all(filed);
  }

  // Shows the kept reports and sends the waiting ones when online; one run at a time.
  var running = null;
  var again = false;
  function refresh() {
    if (!queue || !outbox || !window.indexedDB) return Promise.resolve();
    if (running) { again = true; return running; }
    running = queue.list().then(function (records) {
      return show(records).then(function () {
        var waiting = records.some(function (r) { return r.state === "waiting"; });
        if (waiting && navigator.onLine) return queue.sendAll(csrfToken()).then(show);
      });
    }).catch(function () { /* storage unavailable: nothing kept to show */ }).then(function () {
      running = null;
      if (again) { again = false; return refresh(); }
    });
    return running;
  }

  // Does the server answer? (A phone may say "online" on a link that carries nothing.)
  function reachable() {
    if (!app.ping_url) return Promise.resolve(true);
    var timer;
    var late = new Promise(function (resolve) {
      timer = setTimeout(function () { resolve(false); }, app.ping_timeout_ms || 8000);
    });
    var asked = fetch(app.ping_url, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { return r.ok; }, function () { return false; });
    return Promise.race([asked, late]).then(function (ok) { clearTimeout(timer); return ok; });
  }

  var sending = false;
  form.addEventListener("submit", function (event) {
    if (!app || sending) return; // no enhancement, or the form's own submit below
    event.preventDefault();
    clearPhotoError();
    preparedPhotos().then(function (photos) {
      return (navigator.onLine ? reachable() : Promise.resolve(false)).then(function (online) {
        if (!online) {
          if (queue && window.indexedDB) return keep(photos);
          showPhotoError(say("no_storage"));
          return;
        }
        useFiles(photos);
        sending = true;
        form.submit();
      });
    }, function (message) { showPhotoError(String(message)); });
  });
  if (photoInput) photoInput.addEventListener("change", clearPhotoError);

  window.addEventListener("online", refresh);
  // A link that came back without the phone noticing (no `online` event): try again now and then.
  setInterval(refresh, app && app.retry_ms ? app.retry_ms : 30000);
  window.addEventListener("offline", refresh);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "city311:reports-changed") refresh();
    });
  }
  refresh();

  showAttributes();
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();

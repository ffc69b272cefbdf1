// city311 crew app (/crew/): my team's queue, one order, and its actions. Each action goes to
// the outbox (outbox.js) first and is sent from there, in order, once. The server decides
// every transition: this file shows what the crew API answers and sends what the crew did.
// Its words come translated from the page (json_script "crew-strings"), its settings from
// "crew-config".
(function () {
  "use strict";
  var S = JSON.parse(document.getElementById("crew-strings").textContent);
  var C = JSON.parse(document.getElementById("crew-config").textContent);
  var LAST_USER = "city311-crew-user";
  var SORT = "city311-crew-sort";
  var outbox = window.CrewOutbox.create({
    user: C.user, api: C.api, csrfUrl: C.csrfUrl, csrfCookie: C.csrfCookie,
  });
  var lang = document.documentElement.lang || "en";
  var dates = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
  var km = new Intl.NumberFormat(lang, { style: "unit", unit: "kilometer", maximumFractionDigits: 1 });
  var metres = new Intl.NumberFormat(lang, { style: "unit", unit: "meter", maximumFractionDigits: 0 });
  var state = { orders: [], order: null, position: null, items: [], map: null, layer: null, fitted: "" };
  var flushing = null, again = false, retryTimer = null, refreshTimer = null, socket = null;
  var reading = [];

  function $(id) { return document.getElementById(id); }

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (all, key) { return key in values ? values[key] : all; });
  }

  function when(iso) { return iso ? dates.format(new Date(iso)) : ""; }

  function node(tag, props, children) {
    var el = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      if (key === "text") el.textContent = props[key];
      else if (props[key] !== null && props[key] !== undefined) el.setAttribute(key, props[key]);
    });
    (children || []).forEach(function (child) {
      if (child) el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return el;
  }

  function title(order) {
    var sr = order.service_request;
    return (C.services[sr.service_code] || sr.service_name) + " · " + sr.service_request_id;
  }

  function say(text, bad) {
    var box = $("action-status");
    box.textContent = text;
    box.className = "action-status" + (bad ? " bad" : "");
  }

  function signin(show) { $("signin").hidden = !show; }

  // The server's own words for a refusal.
  function reason(body) {
    var messages = [];
    Object.keys((body && body.errors) || {}).forEach(function (key) {
      messages = messages.concat(body.errors[key]);
    });
    return messages.join(" ") || (body && body.detail) || "";
  }

  // --- Reading: the kept copy first (at once, and offline), then the network (through the
  // service worker, which keeps the answer).

  function read(url, show, status) {
    var job = load(url, show, status);
    reading.push(job);
    return job.then(function () { reading.splice(reading.indexOf(job), 1); });
  }

  function load(url, show, status) {
    var shown = false;
    var kept = "caches" in window
      ? caches.match(url).then(function (r) { return r ? r.json() : null; }).catch(function () { return null; })
      : Promise.resolve(null);
    return kept.then(function (data) {
      if (data) { show(data); shown = true; status.textContent = S.offlineCopy; }
      return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    }).then(function (response) {
      if (response.status === 401 || response.status === 403) { signin(true); return; }
      if (response.ok && !response.headers.get("X-Crew-Cached")) keep(url, response.clone());
      return response.json().then(function (body) {
        if (!response.ok) { status.textContent = reason(body); show(null, body); return; }
        show(body);
        status.textContent = response.headers.get("X-Crew-Cached")
          ? S.offlineCopy : fill(S.updated, { time: when(new Date().toISOString()) });
      });
    }).catch(function () {
      status.textContent = shown ? S.offlineCopy : S.noCopy;
    });
  }

  // A copy for the next start, kept by the page too: the first reads go out before the
  // service worker takes the page. Only while the user's cache is open (signing out drops it).
  function keep(url, response) {
    if (!("caches" in window)) return;
    caches.has(C.caches.data).then(function (open) {
      return open && caches.open(C.caches.data).then(function (cache) { return cache.put(url, response); });
    }).catch(function () {});
  }

  function refresh() {
    if (state.leaving) return;
    read(C.queue, function (orders) {
      if (!orders) return;
      state.orders = orders;
      state.loaded = true;
      renderQueue();
    }, $("queue-status"));
    if (state.order && !$("order-view").hidden) readOrder(state.order.id);
  }

  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 300);
  }

  // --- The queue

  function waitingFor(id) {
    return state.items.filter(function (item) { return item.order === id && item.state === "waiting"; }).length;
  }

  function distance(sr) {
    var here = state.position;
    if (!here || sr.lat === null || sr.long === null) return "";
    var rad = Math.PI / 180;
    var a = Math.pow(Math.sin((sr.lat - here.lat) * rad / 2), 2) +
      Math.cos(here.lat * rad) * Math.cos(sr.lat * rad) * Math.pow(Math.sin((sr.long - here.long) * rad / 2), 2);
    var m = 12742000 * Math.asin(Math.sqrt(a));
    return m < 1000 ? metres.format(Math.round(m / 10) * 10) : km.format(m / 1000);
  }

  function byDue(a, b) {
    if (a.due_at === b.due_at) return a.id - b.id;
    if (!a.due_at) return 1;
    if (!b.due_at) return -1;
    return new Date(a.due_at) - new Date(b.due_at);
  }

  // "Most reported": the requests most residents said "me too" to first, then by due time.
  function bySupporters(a, b) {
    return (b.service_request.supporters || 0) - (a.service_request.supporters || 0) || byDue(a, b);
  }

  function renderQueue() {
    var list = $("queue");
    var orders = state.orders.slice().sort($("queue-sort").value === "supporters" ? bySupporters : byDue);
    list.textContent = "";
    if (!orders.length && state.loaded) list.appendChild(node("li", { class: "hint", text: S.empty }));
    orders.forEach(function (order) {
      var sr = order.service_request;
      var away = distance(sr), waiting = waitingFor(order.id);
      list.appendChild(node("li", {}, [node("a", {
        href: "#/order/" + order.id, class: order.overdue ? "late" : null, "data-id": order.id,
      }, [
        node("strong", { text: title(order) }),
        node("span", { text: sr.address || "" }),
        node("span", { class: "meta" }, [
          node("span", { class: "badge status", text: C.statuses[order.status] || order.status }),
          order.overdue ? node("span", { class: "badge late", text: S.overdue }) : null,
          node("span", { text: order.due_at ? fill(S.due, { time: when(order.due_at) }) : S.noDue }),
          away ? node("span", { class: "away", text: fill(S.away, { distance: away }) }) : null,
          waiting ? node("span", { class: "badge wait", text: fill(S.waitingHere, { count: waiting }) }) : null,
          sr.supporters ? node("span", { class: "supporters", text: fill(S.supporters, { count: sr.supporters }) }) : null,
        ]),
      ])]));
    });
    renderMap(orders);
  }

  // The map works without tiles (C.tileUrl empty): the markers alone.
  function renderMap(orders) {
    if (!window.L || $("queue-view").hidden) return;
    if (!state.map) {
      window.L.Icon.Default.imagePath = C.leafletImages;
      state.map = window.L.map("map", { scrollWheelZoom: false }).setView(C.center, 12);
      if (C.tileUrl) {
        window.L.tileLayer(C.tileUrl, { maxZoom: 19, attribution: C.attribution }).addTo(state.map);
      }
      state.layer = window.L.layerGroup().addTo(state.map);
    }
    state.map.invalidateSize();
    state.layer.clearLayers();
    var points = [];
    orders.forEach(function (order) {
      var sr = order.service_request;
      if (sr.lat === null || sr.long === null) return;
      var name = title(order);
      window.L.marker([sr.lat, sr.long], { title: name, alt: name, keyboard: true })
        .bindPopup(node("a", { href: "#/order/" + order.id, text: name }))
        .addTo(state.layer);
      points.push([sr.lat, sr.long]);
    });
    if (state.position) {
      window.L.circleMarker([state.position.lat, state.position.long], { radius: 8 })
        .bindTooltip(S.youAreHere).addTo(state.layer);
    }
    var key = JSON.stringify(points);
    if (points.length && key !== state.fitted) {
      state.map.fitBounds(points, { padding: [24, 24], maxZoom: 16 });
      state.fitted = key;
    }
  }

  // --- One order

  function readOrder(id) {
    read(C.api + "/" + id, function (order, refused) {
      if (order) renderOrder(order);
      else if (refused) $("actions").hidden = true;
    }, $("order-status"));
  }

  function openOrder(id) {
    say("");
    var row = state.orders.filter(function (order) { return order.id === id; })[0];
    state.order = row || { id: id };
    if (row) renderOrder(row);
    $("order-title").focus();
    readOrder(id);
  }

  function photoLinks(photos, alt) {
    return photos.filter(function (photo) { return photo.thumbnail_url; }).map(function (photo, index) {
      return node("a", { href: photo.url }, [
        node("img", { src: photo.thumbnail_url, alt: alt + " " + (index + 1), loading: "lazy" }),
      ]);
    });
  }

  function renderOrder(order) {
    var sr = order.service_request;
    state.order = order;
    $("order-view").setAttribute("data-detail", order.actions ? "full" : "row");
    $("actions").hidden = false;
    $("order-title").textContent = title(order);
    var status = C.statuses[order.status] || order.status;
    if (order.hold) {
      status += " — " + fill(S.heldFor, {
        reason: C.holdReasons[order.hold.reason] || order.hold.reason, time: when(order.hold.since),
      });
    }
    $("f-status").textContent = status;
    $("f-due").textContent = (order.due_at ? when(order.due_at) : S.noDue) + (order.overdue ? " · " + S.overdue : "");
    $("f-address").textContent = sr.address || "—";
    var hasPoint = sr.lat !== null && sr.long !== null;
    $("f-point").textContent = hasPoint ? fill(S.position, { lat: sr.lat.toFixed(5), long: sr.long.toFixed(5) }) : "—";
    $("f-description").textContent = sr.description || S.noDescription;
    var answers = $("f-attributes");
    answers.textContent = "";
    (order.attributes || []).forEach(function (row) {
      answers.appendChild(node("dt", { text: row.question }));
      answers.appendChild(node("dd", { text: row.answer }));
    });
    $("navigate").hidden = !hasPoint;
    if (hasPoint) $("navigate").href = "geo:" + sr.lat + "," + sr.long;
    var photos = photoLinks(order.request_photos || [], S.photoAlt)
      .concat(photoLinks(order.proof_photos || [], S.proofAlt));
    $("f-photos").textContent = "";
    photos.forEach(function (link) { $("f-photos").appendChild(link); });
    $("f-photos-box").hidden = !photos.length;
    offerTemplates(order);
    showActions();
  }

  // The staff's response templates (filled in by the server for this order) next to each
  // message for the resident: choosing one fills the box. Those of the status the action
  // leads to, or of any status.
  var TEMPLATE_STATUS = { start: "in_progress", hold: "on_hold", resume: "in_progress", complete: "completed" };

  function offerTemplates(order) {
    var templates = order.response_templates || [];
    Array.prototype.forEach.call(document.querySelectorAll("#actions form"), function (form) {
      var box = form.elements.public_note;
      if (!box) return;
      var target = TEMPLATE_STATUS[form.getAttribute("data-action")] || order.status;
      var mine = templates.filter(function (t) { return !t.status || t.status === target; });
      var select = $(box.id + "-template");
      if (!select) {
        select = node("select", { id: box.id + "-template" });
        select.addEventListener("change", function () {
          if (select.value) box.value = select.options[select.selectedIndex].getAttribute("data-text");
        });
        var label = node("label", { for: select.id, text: S.templatePick });
        box.parentNode.insertBefore(label, box.previousElementSibling || box);
        box.parentNode.insertBefore(select, box.previousElementSibling || box);
      }
      select.textContent = "";
      select.appendChild(node("option", { value: "", text: S.templateNone }));
      mine.forEach(function (t) {
        var option = node("option", { value: String(t.id), text: t.name });
        option.setAttribute("data-text", t.text);
        select.appendChild(option);
      });
      select.hidden = select.previousElementSibling.hidden = !mine.length;
    });
  }

  // The actions the server allows now; all of them while this phone still has actions
  // waiting for the order (the server will judge them in order).
  function showActions() {
    var order = state.order;
    if (!order) return;
    var allowed = waitingFor(order.id) ? null : order.actions;
    Array.prototype.forEach.call(document.querySelectorAll("#actions details"), function (box) {
      box.hidden = !!allowed && allowed.indexOf(box.getAttribute("data-action")) < 0;
    });
  }

  // --- Acting: into the outbox at once, sent when the network allows

  function shrink(file) {
    return window.city311Shrink ? window.city311Shrink.shrinkPhoto(file) : Promise.resolve(file);
  }

  function act(event) {
    event.preventDefault();
    var form = event.target, action = form.getAttribute("data-action"), order = state.order;
    var fields = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name && field.type !== "file" && field.value.trim()) fields[field.name] = field.value.trim();
    });
    var files = form.elements.photos ? Array.prototype.slice.call(form.elements.photos.files) : [];
    var clientAt = new Date().toISOString();
    Promise.all(files.map(shrink)).then(function (photos) {
      var big = photos.map(function (photo) { return photo.size > C.photoMaxBytes; }).indexOf(true);
      if (big >= 0) {
        var size = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(C.photoMaxBytes / 1e6);
        say(fill(S.photoTooBig, { number: big + 1, size: size }), true);
        return false;
      }
      return outbox.add({
        order: order.id,
        action: action,
        key: crypto.randomUUID(),
        client_at: clientAt,
        fields: fields,
        photos: photos,
        label: S[action] + " · " + (order.service_request ? title(order) : "#" + order.id),
        state: "waiting",
      }).then(function () {
        form.reset();
        form.parentNode.open = false;
        say(S.queued);
        return showOutbox();
      }).then(function () {
        backgroundSync();
        flush();
      });
    });
  }

  function backgroundSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.sync) return registration.sync.register("crew-outbox-" + C.user);
    }).catch(function () {});
  }

  function flush() {
    if (flushing) { again = true; return flushing; }
    clearTimeout(retryTimer);
    flushing = outbox.send().then(function (result) {
      if (result.state === "signin") signin(true);
      if (result.state === "done") signin(false);
      if (result.state === "retry") retryTimer = setTimeout(flush, 30000);
      if (result.sent.length && !result.failed.length) say(S.sent);
      if (result.failed.length) {
        say(result.failed.map(function (item) {
          return fill(S.failed, { message: item.message || fill(S.failedStatus, { status: item.status }) });
        }).join(" "), true);
      }
      if (result.sent.length || result.failed.length) refresh();
      return showOutbox();
    }).catch(function () {}).then(function () {
      flushing = null;
      if (again) { again = false; flush(); }
    });
    return flushing;
  }

  function showOutbox() {
    return outbox.list().then(function (items) {
      state.items = items;
      var list = $("outbox"), waiting = 0;
      list.textContent = "";
      items.forEach(function (item) {
        var failed = item.state === "failed";
        if (!failed) waiting++;
        var entry = node("li", { class: failed ? "failed" : "waiting", "data-state": item.state }, [
          node("strong", { text: item.label }), " ",
          node("span", { class: "when", text: when(item.client_at) }),
          node("div", {
            class: failed ? "why" : "badge wait",
            text: failed ? fill(S.failed, { message: item.message || fill(S.failedStatus, { status: item.status }) }) : S.waiting,
          }),
        ]);
        if (failed) {
          var dismiss = node("button", { type: "button", text: S.dismiss, "aria-label": S.dismiss + ": " + item.label });
          dismiss.addEventListener("click", function () { outbox.remove(item.seq).then(showOutbox); });
          entry.appendChild(dismiss);
        }
        list.appendChild(entry);
      });
      $("outbox-status").textContent = waiting ? fill(S.waitingHere, { count: waiting }) : S.nothingWaiting;
      renderQueue();
      showActions();
    });
  }

  // --- Live updates while online, and the offline banner

  function live() {
    if (socket || state.leaving || !navigator.onLine || !window.WebSocket) return;
    socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + C.ws);
    socket.onopen = function () { document.body.setAttribute("data-live", "open"); };
    socket.onmessage = function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (error) { return; }
      if (message.type === "work_order") refreshSoon();
    };
    socket.onclose = function (event) {
      socket = null;
      document.body.setAttribute("data-live", "closed");
      if (event.code === 4401) signin(true);
      else if (event.code !== 4403) setTimeout(live, 5000);
    };
  }

  function network() {
    $("net").textContent = navigator.onLine ? "" : S.offline;
    if (navigator.onLine) {
      live();
      flush();
      refresh();
    } else if (socket) {
      socket.close();
    }
  }

  // --- Signing out: warn about waiting actions, then wipe this user's data from the phone

  function csrfCookie() {
    var found = document.cookie.split("; ").filter(function (part) {
      return part.indexOf(C.csrfCookie + "=") === 0;
    })[0];
    return found ? decodeURIComponent(found.split("=")[1]) : "";
  }

  function wipe() {
    localStorage.removeItem(LAST_USER);
    var jobs = [outbox.wipe()];
    if ("caches" in window) {
      jobs.push(caches.keys().then(function (names) {
        return Promise.all(names.map(function (name) {
          if (name === C.caches.data) return caches.delete(name);
          if (name.indexOf(C.caches.shell) === 0) {
            return caches.open(name).then(function (cache) { return cache.delete(C.scope); });
          }
          return null;
        }));
      }));
    }
    return Promise.all(jobs);
  }

  function signOut(event) {
    event.preventDefault();
    var form = event.target;
    outbox.list().then(function (items) {
      var waiting = items.filter(function (item) { return item.state === "waiting"; }).length;
      if (waiting && !window.confirm(fill(S.signoutWaiting, { count: waiting }))) return;
      if (!navigator.onLine) { $("outbox-status").textContent = S.signoutOffline; return; }
      state.leaving = true; // no more reads: what is on its way lands before the wipe
      if (socket) socket.close();
      return Promise.all(reading).then(wipe).then(function () { form.submit(); });
    });
  }

  // --- Start

  function route() {
    var match = /^#\/order\/(\d+)$/.exec(location.hash);
    $("queue-view").hidden = !!match;
    $("order-view").hidden = !match;
    if (match) openOrder(Number(match[1]));
    else renderQueue();
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("#actions form"), function (form) {
      form.addEventListener("submit", act);
    });
    $("signout").addEventListener("submit", signOut);
    // The page may be a kept copy from before the last sign-in: forms take today's token.
    document.addEventListener("submit", function (event) {
      var field = event.target.elements.csrfmiddlewaretoken, token = csrfCookie();
      if (field && token) field.value = token;
    }, true);
    window.addEventListener("hashchange", route);
    window.addEventListener("online", network);
    window.addEventListener("offline", network);
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register(C.sw, { scope: C.scope }).catch(function () {});
      navigator.serviceWorker.addEventListener("message", function (event) {
        if (!event.data || event.data.type !== "outbox") return;
        if (event.data.state === "signin") signin(true);
        showOutbox();
        refresh();
      });
    }
    if (navigator.geolocation) {
      navigator.geolocation.watchPosition(function (position) {
        state.position = { lat: position.coords.latitude, long: position.coords.longitude };
        renderQueue();
      }, function () {}, { maximumAge: 60000, timeout: 30000 });
    }
    $("queue-status").textContent = S.loading;
    // The chosen order of the queue is kept on this phone.
    var sort = $("queue-sort");
    sort.value = localStorage.getItem(SORT) === "supporters" ? "supporters" : "due";
    sort.addEventListener("change", function () {
      localStorage.setItem(SORT, sort.value);
      renderQueue();
    });
    // Another user signed in on this phone: the last one's kept orders go.
    var last = localStorage.getItem(LAST_USER);
    var cleared = last && last !== String(C.user) && "caches" in window
      ? caches.delete(C.caches.data) : Promise.resolve();
    localStorage.setItem(LAST_USER, String(C.user));
    cleared.then(function () {
      return "caches" in window ? caches.open(C.caches.data) : null; // the worker keeps copies in it
    }).then(function () {
      route();
      showOutbox();
      $("net").textContent = navigator.onLine ? "" : S.offline;
      refresh();
      flush();
      live();
    });
  }

  start();
})();

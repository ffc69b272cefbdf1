// "Get updates on this phone": subscribes this browser to Web Push (templates/web/_push_optin.html).
// data-scope="account" (on /me/): the account's requests and follows, shown at once.
// data-scope="request": one request, named by data-service-request-id, or by the
// document event "city311:filed" (detail.public_id) once a report is filed.
// The server decides everything (mobile_api: vapid-public-key, push/subscriptions); the
// words come from the template's data-text-* attributes.
(function () {
  "use strict";
  var box = document.querySelector("[data-push-optin]");
  if (!box) return;
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    return; // stays hidden: this browser cannot receive pushes
  }
  var subscribeButton = box.querySelector("[data-push-subscribe]");
  var unsubscribeButton = box.querySelector("[data-push-unsubscribe]");
  var statusLine = box.querySelector("[data-push-status]");
  var scope = box.getAttribute("data-scope");
  var requestId = box.getAttribute("data-service-request-id") || "";

  function text(name) { return box.getAttribute("data-text-" + name) || ""; }
  function say(message) { statusLine.textContent = message; }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function send(method, body) {
    return fetch(box.getAttribute("data-subscriptions-url"), {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    }).then(function (response) {
      if (!response.ok) throw new Error("push subscriptions: " + response.status);
      return response.json();
    });
  }

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function sameKey(subscription, bytes) {
    var current = subscription.options && subscription.options.applicationServerKey;
    if (!current) return false;
    var view = new Uint8Array(current);
    if (view.length !== bytes.length) return false;
    for (var i = 0; i < view.length; i++) if (view[i] !== bytes[i]) return false;
    return true;
  }

  function registration() {
    return navigator.serviceWorker.register(box.getAttribute("data-sw-url")).then(function () {
      return navigator.serviceWorker.ready;
    });
  }

  // The browser's subscription for the site's current key (a key changed: subscribe anew).
  function browserSubscription(reg, bytes) {
    return reg.pushManager.getSubscription().then(function (existing) {
      if (existing && sameKey(existing, bytes)) return existing;
      var gone = existing ? existing.unsubscribe() : Promise.resolve();
      return gone.then(function () {
        return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes });
      });
    });
  }

  function busy(on) {
    subscribeButton.disabled = on;
    unsubscribeButton.disabled = on;
    box.setAttribute("aria-busy", on ? "true" : "false");
  }

  function turnOn() {
    busy(true);
    say(text("working"));
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        say(text("blocked"));
        return null;
      }
      return fetch(box.getAttribute("data-key-url"), { headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("vapid key: " + response.status);
          return response.json();
        })
        .then(function (body) {
          var bytes = keyBytes(body.public_key);
          return registration().then(function (reg) { return browserSubscription(reg, bytes); });
        })
        .then(function (subscription) {
          var body = subscription.toJSON();
          if (scope !== "account") body.service_request_id = requestId;
          return send("POST", body);
        })
        .then(function () {
          say(text("on"));
          unsubscribeButton.hidden = false;
        });
    }).catch(function () {
      say(text("failed"));
    }).then(function () { busy(false); });
  }

  function turnOff() {
    busy(true);
    registration().then(function (reg) {
      return reg.pushManager.getSubscription();
    }).then(function (subscription) {
      if (!subscription) return null;
      return send("DELETE", { endpoint: subscription.endpoint }).then(function () {
        return subscription.unsubscribe();
      });
    }).then(function () {
      say(text("off"));
      unsubscribeButton.hidden = true;
      subscribeButton.focus();
    }).catch(function () {
      say(text("off-failed"));
    }).then(function () { busy(false); });
  }

  function reveal() {
    box.hidden = false;
    if (Notification.permission === "denied") {
      say(text("blocked"));
      subscribeButton.disabled = true;
      return;
    }
    // A subscription this browser already has can be turned off from here.
    navigator.serviceWorker.getRegistration().then(function (reg) {
      return reg ? reg.pushManager.getSubscription() : null;
    }).then(function (subscription) {
      unsubscribeButton.hidden = !subscription;
    }).catch(function () {});
  }

  subscribeButton.addEventListener("click", turnOn);
  unsubscribeButton.addEventListener("click", turnOff);
  if (scope === "account" || requestId) {
    reveal();
  } else {
    document.addEventListener("city311:filed", function (event) {
      var detail = event.detail || {};
      if (!detail.public_id) return;
      requestId = String(detail.public_id);
      box.setAttribute("data-service-request-id", requestId);
      say("");
      reveal();
    });
  }
})();

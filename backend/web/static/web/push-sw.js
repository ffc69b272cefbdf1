// city311 Web Push, inside the residents' service worker: /sw.js loads it with
// importScripts("/static/web/push-sw.js"). The server sends {title, body, url, tag}
// (mobile_api/push.py), all in the resident's words already: nothing here is shown that the
// server did not send. The display and the click are plain functions on self.city311Push,
// so a test can call them with stand-ins for the registration and the clients.
(function (scope) {
  "use strict";
  // The worker may name another icon (a CDN's STATIC_URL) before importing this file.
  var ICON = scope.CITY311_PUSH_ICON || "/static/web/icons/icon-192.png";

  // Only this site's pages open from a notification; anything else opens the home page.
  function targetUrl(url) {
    var origin = scope.location.origin;
    var parsed;
    try { parsed = new URL(url || "/", origin); } catch (e) { return origin + "/"; }
    return parsed.origin === origin ? parsed.href : origin + "/";
  }

  function payloadOf(data) {
    if (!data) return {};
    try { return data.json() || {}; } catch (e) { return { body: data.text() }; }
  }

  // Shows one message; resolves when the notification is up.
  function show(registration, payload) {
    payload = payload || {};
    var options = {
      body: payload.body || "",
      icon: ICON,
      badge: ICON,
      data: { url: targetUrl(payload.url) },
    };
    if (payload.tag) {
      options.tag = payload.tag; // a newer status of the same request replaces the older one
      options.renotify = true; // ... and still alerts
    }
    return registration.showNotification(payload.title || "city311", options);
  }

  // A tap: back to a window already showing the page, else a new one.
  function open(clients, url) {
    url = targetUrl(url);
    return clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (list) {
      for (var i = 0; i < list.length; i++) {
        if (list[i].url === url && "focus" in list[i]) return list[i].focus();
      }
      return clients.openWindow ? clients.openWindow(url) : undefined;
    });
  }

  scope.city311Push = { show: show, open: open, targetUrl: targetUrl };

  if (typeof ServiceWorkerGlobalScope === "undefined" || !(scope instanceof ServiceWorkerGlobalScope)) {
    return; // loaded in a page (tests): the functions only
  }
  scope.addEventListener("push", function (event) {
    event.waitUntil(show(scope.registration, payloadOf(event.data)));
  });
  scope.addEventListener("notificationclick", function (event) {
    event.notification.close();
    var data = event.notification.data || {};
    event.waitUntil(open(scope.clients, data.url));
  });
  // No "pushsubscriptionchange" handler: a renewed subscription is registered again the next
  // time the resident turns updates on (the worker cannot tell the account's from a request's).
})(self);

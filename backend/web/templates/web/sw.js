{% autoescape off %}// city311 residents' service worker, scope "/" (served by backend/web/installable.py).
// - Keeps the shell on the phone: the report and track pages, their scripts and styles,
//   Leaflet, the icons and the offline page (versioned caches; old ones go on activate).
// - Pages: network first, the kept copy when the network fails (a reload offline renders
//   the page), the offline page for anything never kept. Personal pages are never kept.
// - Never touches the crew app (its own worker), the staff pages, the admin, the APIs,
//   websockets, media or another site: the browser fetches those itself.
// - Background Sync: sends the reports kept on the phone (report-queue.js, on idb-store.js).
// - Web Push: the push and notificationclick handlers of push-sw.js.
"use strict";
var VERSION = {{ version }};
var SHELL_CACHE = "city311-shell-" + VERSION;
var PAGES_CACHE = "city311-pages-" + VERSION;
var OWN_CACHES = /^city311-(shell|pages)-/;
var SHELL = {{ shell }};
var NETWORK_ONLY = {{ network_only }};
var PRIVATE_PAGES = {{ private_pages }};
var OFFLINE_URL = {{ offline_url }};
var REPORT_URL = {{ report_url }};
var CSRF_COOKIE = {{ csrf_cookie }};
var PAGES_KEPT = 30;

self.CITY311_PUSH_ICON = {{ icon }};
importScripts({{ store_script }});
importScripts({{ queue_script }});
try {
  importScripts({{ push_script }});
} catch (err) {
  // Without the push handlers the rest of the worker still works.
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL_CACHE).then(function (cache) {
      return cache.addAll(SHELL.map(function (url) {
        return new Request(url, { cache: "reload", credentials: "same-origin" });
      }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return OWN_CACHES.test(name) && name !== SHELL_CACHE && name !== PAGES_CACHE;
      }).map(function (name) { return caches["delete"](name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function startsWithAny(path, prefixes) {
  return prefixes.some(function (prefix) { return path.indexOf(prefix) === 0; });
}

function keepPage(cacheName, request, response) {
  return caches.open(cacheName).then(function (cache) {
    return cache.put(request, response).then(function () {
      if (cacheName !== PAGES_CACHE) return;
      return cache.keys().then(function (keys) {
        return Promise.all(keys.slice(0, Math.max(0, keys.length - PAGES_KEPT)).map(function (key) {
          return cache["delete"](key);
        }));
      });
    });
  });
}

function kept(url) {
  var options = { ignoreVary: true };
  return caches.open(PAGES_CACHE).then(function (pages) {
    return pages.match(url.href, options);
  }).then(function (hit) {
    return hit || caches.open(SHELL_CACHE).then(function (shell) {
      return shell.match(url.pathname, options).then(function (found) {
        if (found) return found;
        if (url.pathname === "/") return shell.match(REPORT_URL, options);
        return undefined;
      }).then(function (found) {
        return found || shell.match(OFFLINE_URL, options);
      });
    });
  });
}

function navigate(event, url) {
  var personal = startsWithAny(url.pathname, PRIVATE_PAGES);
  return fetch(event.request).then(function (response) {
    if (!personal && response.ok && !response.redirected && response.type === "basic") {
      var inShell = !url.search && SHELL.indexOf(url.pathname) >= 0;
      event.waitUntil(keepPage(inShell ? SHELL_CACHE : PAGES_CACHE, url.href, response.clone()));
    }
    return response;
  }, function () {
    if (personal) {
      return caches.open(SHELL_CACHE).then(function (shell) {
        return shell.match(OFFLINE_URL, { ignoreVary: true });
      });
    }
    return kept(url);
  });
}

// The shell's own files: from the phone first (the cache is as new as the worker's version).
function staticFile(request) {
  return caches.match(request, { ignoreVary: true, ignoreSearch: true }).then(function (hit) {
    if (hit) return hit;
    return fetch(request).then(function (response) {
      if (response.ok && response.type === "basic") {
        var copy = response.clone();
        caches.open(SHELL_CACHE).then(function (cache) { return cache.put(request, copy); });
      }
      return response;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (startsWithAny(url.pathname, NETWORK_ONLY)) return;
  if (request.mode === "navigate") {
    event.respondWith(navigate(event, url));
  } else if (url.pathname.indexOf("/static/") === 0 && SHELL.indexOf(url.pathname) >= 0) {
    event.respondWith(staticFile(request));
  }
  // Anything else is the network's: the pages' JSON (nearby reports, live status) and the
  // static files of other pages (the staff console's), which this worker's version does not
  // follow and so must never serve stale.
});

// --- Reports kept on the phone: Background Sync sends them when the network is back.

function csrfToken() {
  if (!self.cookieStore) return Promise.resolve("");
  return self.cookieStore.get(CSRF_COOKIE).then(function (cookie) {
    return cookie ? cookie.value : "";
  }, function () { return ""; });
}

function tellPages() {
  return self.clients.matchAll({ type: "window" }).then(function (clients) {
    clients.forEach(function (client) { client.postMessage({ type: "city311:reports-changed" }); });
  });
}

self.addEventListener("sync", function (event) {
  if (event.tag !== self.city311ReportQueue.SYNC_TAG) return;
  event.waitUntil(
    csrfToken().then(function (token) {
      return self.city311ReportQueue.sendAll(token);
    }).then(function (records) {
      return tellPages().then(function () {
        var waiting = records.filter(function (record) { return record.state === "waiting"; });
        // Still waiting: failing the sync makes the browser try again later.
        if (waiting.length) throw new Error("reports still waiting");
      });
    })
  );
});
{% endautoescape %}
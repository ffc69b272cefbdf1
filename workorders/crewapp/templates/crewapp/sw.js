// city311 crew app: the service worker, scoped to /crew/ (workorders/crewapp/views.py serves
// it with its settings filled in). The shell (page, scripts, styles, Leaflet, icons) comes
// from the cache; the crew API's GETs go to the network first and fall back to the last copy;
// photos seen are kept; POSTs are never touched. Queued actions are sent by the page, and by
// Background Sync here where the browser has it (the same outbox.js, one sender at a time).
"use strict";
var CONFIG = {{ config|safe }};
var SHELL = CONFIG.caches.shell + CONFIG.version;
var DATA = CONFIG.caches.data;
importScripts(CONFIG.storeJs, CONFIG.outboxJs);

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) {
    return Promise.all([cache.addAll(CONFIG.precache), refreshPage(cache)]);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf(CONFIG.caches.shell) === 0 && name !== SHELL;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

// The page, kept only when it is the app itself (not the sign-in page it may redirect to);
// a refusal (403: not a crew member any more) drops the kept copy.
function refreshPage(cache) {
  return fetch(CONFIG.page, { credentials: "same-origin" }).then(function (response) {
    if (response.ok && !response.redirected) {
      return cache.put(CONFIG.page, response.clone()).then(function () { return response; });
    }
    if (response.status === 403) return cache.delete(CONFIG.page).then(function () { return response; });
    return response;
  });
}

function fromCacheFirst(request) {
  return caches.open(SHELL).then(function (cache) {
    return cache.match(request).then(function (kept) { return kept || fetch(request); });
  });
}

// The page: the kept copy at once (offline, or a weak link), refreshed behind it; the
// network when there is no copy (a navigation may then be a redirect to the sign-in page),
// or first when the page asks for it ("?fresh": after changing the language).
function page(event) {
  var fresh = new URL(event.request.url).searchParams.has("fresh");
  return caches.open(SHELL).then(function (cache) {
    return cache.match(CONFIG.page, { ignoreSearch: true }).then(function (kept) {
      if (kept && fresh) {
        return refreshPage(cache).then(function (response) {
          return response.redirected ? kept : response;
        }, function () { return kept; });
      }
      if (kept) {
        event.waitUntil(refreshPage(cache).catch(function () {}));
        return kept;
      }
      return fetch(event.request).then(function (response) {
        if (response.ok && response.type === "basic" && !response.redirected) {
          cache.put(CONFIG.page, response.clone());
        }
        return response;
      });
    });
  });
}

function marked(response) {
  var headers = new Headers(response.headers);
  headers.set("X-Crew-Cached", "1");
  return response.blob().then(function (body) {
    return new Response(body, { status: response.status, statusText: response.statusText, headers: headers });
  });
}

// Keeps a copy in the user's data cache, which the page opens when it starts and deletes when
// the crew signs out: a read still on its way then keeps nothing.
function keep(request, response) {
  if (!response.ok) return Promise.resolve(response);
  var copy = response.clone();
  return caches.has(DATA).then(function (open) {
    return open && caches.open(DATA).then(function (cache) { return cache.put(request, copy); });
  }).then(function () { return response; }, function () { return response; });
}

// The crew API's reads: the network first; its last answer when the network fails.
function networkFirst(request) {
  return fetch(request).then(function (response) {
    return keep(request, response);
  }, function (error) {
    return caches.open(DATA).then(function (cache) { return cache.match(request); }).then(function (kept) {
      if (kept) return marked(kept);
      throw error;
    });
  });
}

// Photos (the resident's, the proof): they do not change, so the kept copy is enough.
function photo(request) {
  return caches.match(request, { cacheName: DATA }).then(function (kept) {
    return kept || fetch(request).then(function (response) { return keep(request, response); });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return; // POSTs straight to the network, never kept
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" || url.pathname === CONFIG.page) {
    if (url.pathname === CONFIG.page) event.respondWith(page(event));
    return;
  }
  if (url.pathname.indexOf(CONFIG.api) === 0) {
    event.respondWith(networkFirst(request));
  } else if (url.pathname.indexOf(CONFIG.media) === 0) {
    event.respondWith(photo(request));
  } else if (CONFIG.precache.indexOf(url.pathname) >= 0) {
    event.respondWith(fromCacheFirst(request));
  }
});

// Background Sync: the page registers "crew-outbox-<user id>" after each action it keeps.
self.addEventListener("sync", function (event) {
  var match = /^crew-outbox-(\d+)$/.exec(event.tag);
  if (!match) return;
  var outbox = self.CrewOutbox.create({ user: match[1], api: CONFIG.api, csrfUrl: CONFIG.csrfUrl });
  event.waitUntil(outbox.send().then(function (result) {
    return self.clients.matchAll().then(function (clients) {
      clients.forEach(function (client) { client.postMessage({ type: "outbox", state: result.state }); });
      if (result.state === "offline" || result.state === "retry") throw new Error(result.state);
    });
  }));
});

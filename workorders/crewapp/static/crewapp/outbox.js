// city311 crew app: the outbox. Every action taken on the phone is first written here
// (IndexedDB, one database per user) with its Idempotency-Key and the phone's time, then sent
// in order, one at a time, until the server has it. The page (crew.js) and the service worker
// (Background Sync) both load this file (after web/idb-store.js) and send the same way, never
// at once (a Web Lock).
// The CSRF token is read when sending, never stored: it changes when the crew signs in again.
//
// CrewOutbox.create({user, api, csrfUrl, csrfCookie}) -> {add, list, put, remove, send, wipe}
// send() -> {state: "done" | "offline" | "signin" | "retry", sent: [items], failed: [items]}
(function (global) {
  "use strict";
  var STORE = "actions";
  var chains = {};

  function create(options) {
    var name = "city311-crew-" + options.user;

    // One request in its own transaction; the connection is closed after (so that signing
    // out can delete the database at once).
    var run = global.city311IdbStore(name, STORE, { keyPath: "seq", autoIncrement: true });

    function add(item) { return run("readwrite", function (s) { return s.add(item); }); }
    function list() { return run("readonly", function (s) { return s.getAll(); }); }
    function put(item) { return run("readwrite", function (s) { return s.put(item); }); }
    function remove(seq) { return run("readwrite", function (s) { return s.delete(seq); }); }

    function wipe() {
      return new Promise(function (resolve) {
        var request = indexedDB.deleteDatabase(name);
        request.onsuccess = request.onerror = request.onblocked = function () { resolve(); };
      });
    }

    function token(fresh) {
      if (!fresh && global.document && options.csrfCookie) {
        var found = document.cookie.split("; ").filter(function (part) {
          return part.indexOf(options.csrfCookie + "=") === 0;
        })[0];
        if (found) return Promise.resolve(decodeURIComponent(found.split("=")[1]));
      }
      return fetch(options.csrfUrl, { credentials: "same-origin", cache: "no-store" })
        .then(function (response) { return response.json(); })
        .then(function (body) { return body.token; });
    }

    function post(item, fresh) {
      return token(fresh).then(function (csrf) {
        var body = new FormData();
        body.append("client_at", item.client_at);
        Object.keys(item.fields || {}).forEach(function (key) { body.append(key, item.fields[key]); });
        (item.photos || []).forEach(function (blob, index) {
          body.append("photos", blob, "photo-" + (index + 1) + ".jpg");
        });
        return fetch(options.api + "/" + item.order + "/" + item.action, {
          method: "POST",
          body: body,
          credentials: "same-origin",
          headers: { Accept: "application/json", "Idempotency-Key": item.key, "X-CSRFToken": csrf },
        });
      });
    }

    // The server's own words: the fields' messages, else its detail.
    function reason(response) {
      return response.json().then(function (body) {
        var messages = [];
        Object.keys(body.errors || {}).forEach(function (key) {
          messages = messages.concat(body.errors[key]);
        });
        return messages.join(" ") || body.detail || "";
      }, function () { return ""; });
    }

    function sendAll() {
      var result = { state: "done", sent: [], failed: [] };
      return list().then(function (items) {
        var waiting = items.filter(function (item) { return item.state === "waiting"; });
        function next(index) {
          if (index >= waiting.length) return result;
          var item = waiting[index];
          return post(item, false).then(function (response) {
            // A refused token (signed in again elsewhere): once more with a fresh one.
            return response.status === 403 ? post(item, true) : response;
          }).then(function (response) {
            if (response.ok) {
              result.sent.push(item);
              return remove(item.seq).then(function () { return next(index + 1); });
            }
            if (response.status === 401 || response.status === 403) {
              result.state = "signin";
              return result;
            }
            if (response.status === 429 || response.status >= 500) {
              result.state = "retry";
              return result;
            }
            // Refused for good (the order went to another team, was cancelled...): kept, shown
            // with the server's message, never sent again.
            return reason(response).then(function (message) {
              item.state = "failed";
              item.status = response.status;
              item.message = message;
              item.photos = [];
              result.failed.push(item);
              return put(item).then(function () { return next(index + 1); });
            });
          }, function () {
            result.state = "offline";
            return result;
          });
        }
        return next(0);
      });
    }

    function send() {
      var lock = "city311-crew-outbox-" + options.user;
      if (global.navigator && global.navigator.locks) {
        return global.navigator.locks.request(lock, sendAll);
      }
      chains[lock] = (chains[lock] || Promise.resolve()).then(sendAll, sendAll);
      return chains[lock];
    }

    return { add: add, list: list, put: put, remove: remove, send: send, wipe: wipe };
  }

  global.CrewOutbox = { create: create };
})(self);

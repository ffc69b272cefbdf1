// Reports kept on the phone while it is offline, and their sending: IndexedDB records with
// the photos as Blobs and one Idempotency-Key each, made once when the report is composed.
// Shared by the report page (report.js) and the residents' service worker (/sw.js, for
// Background Sync), both of which load idb-store.js before it: whichever sends first files
// the report; the key makes the server answer any later send with the same request (the
// intake's replay), so it is filed exactly once.
// The server decides everything: this file only stores, sends and records the answer.
(function (root) {
  "use strict";
  var DB_NAME = "city311-resident";
  var STORE = "reports";
  var LOCK = "city311-report-queue";
  var SYNC_TAG = "city311-reports";

  // Runs fn(store) in one transaction; resolves with the result of the request fn returns.
  var withStore = root.city311IdbStore(DB_NAME, STORE, { keyPath: "key" });

  function list() {
    return withStore("readonly", function (store) { return store.getAll(); }).then(function (all) {
      return (all || []).sort(function (a, b) { return a.createdAt - b.createdAt; });
    });
  }

  function save(record) {
    return withStore("readwrite", function (store) { return store.put(record); });
  }

  function remove(key) {
    return withStore("readwrite", function (store) { return store["delete"](key); });
  }

  function newKey() {
    if (root.crypto && root.crypto.randomUUID) return root.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    root.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  // One POST of the record; what became of it: sent (with the request id), refused by the
  // server (with its errors: the resident must change something), or still waiting
  // (offline, server busy or away, or a session that changed: try again later).
  function sendOne(record, csrfToken) {
    var body = new FormData();
    record.fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
    record.photos.forEach(function (photo) { body.append("photos", photo.blob, photo.name); });
    var headers = { "Idempotency-Key": record.key, Accept: "application/json" };
    var token = csrfToken || record.csrfToken;
    if (token) headers["X-CSRFToken"] = token;
    return root.fetch(record.url, {
      method: "POST", body: body, headers: headers, credentials: "same-origin",
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.status === 200 || response.status === 201) {
          return { state: "sent", publicId: data.service_request_id };
        }
        if (response.status === 401 || response.status === 403 || response.status === 429 ||
            response.status >= 500) {
          return { state: "waiting" };
        }
        return { state: "refused", status: response.status, errors: data.errors || {}, detail: data.detail || "" };
      });
    }, function () { return { state: "waiting" }; });
  }

  function sendWaiting(csrfToken) {
    return list().then(function (records) {
      var chain = Promise.resolve();
      records.forEach(function (record) {
        if (record.state !== "waiting") return;
        chain = chain.then(function () {
          return sendOne(record, csrfToken).then(function (outcome) {
            if (outcome.state === "waiting") return;
            record.state = outcome.state;
            record.publicId = outcome.publicId || "";
            record.errors = outcome.errors || {};
            record.detail = outcome.detail || "";
            record.sentAt = Date.now();
            return save(record);
          });
        });
      });
      return chain.then(list);
    });
  }

  // Sends every waiting report, one at a time and one sender at a time (the page and the
  // worker share a lock where the browser has one); resolves with all the records.
  function sendAll(csrfToken) {
    if (root.navigator && root.navigator.locks) {
      return root.navigator.locks.request(LOCK, function () { return sendWaiting(csrfToken); });
    }
    return sendWaiting(csrfToken);
  }

  root.city311ReportQueue = {
    SYNC_TAG: SYNC_TAG,
    list: list,
    save: save,
    remove: remove,
    newKey: newKey,
    sendAll: sendAll,
  };
})(self);

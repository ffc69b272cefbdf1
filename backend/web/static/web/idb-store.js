// One IndexedDB object store, opened for each call and closed after it (so that the page and
// its service worker can share the database, and signing out can delete it at once). Used by
// the residents' report queue (report-queue.js) and the crew app's outbox (crewapp/outbox.js):
// their pages and service workers load this file first.
//
// city311IdbStore(dbName, storeName, storeOptions) -> run(mode, call): call(store) makes one
// request in its own transaction; run resolves with that request's result once the
// transaction completes, and rejects with the transaction's error.
(function (root) {
  "use strict";

  root.city311IdbStore = function (dbName, storeName, storeOptions) {
    function open() {
      return new Promise(function (resolve, reject) {
        var request = root.indexedDB.open(dbName, 1);
        request.onupgradeneeded = function () {
          request.result.createObjectStore(storeName, storeOptions);
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }

    return function run(mode, call) {
      return open().then(function (db) {
        return new Promise(function (resolve, reject) {
          var tx = db.transaction(storeName, mode);
          var request = call(tx.objectStore(storeName));
          tx.oncomplete = function () { db.close(); resolve(request ? request.result : undefined); };
          tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
        });
      });
    };
  };
})(self);

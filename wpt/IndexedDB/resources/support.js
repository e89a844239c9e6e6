// Helpers in the shape of upstream IndexedDB/resources/support.js: a fresh
// database per test, deleted when the test ends.

function dbName(t) {
  return "swrt-idb-" + t.name.replace(/[^a-z0-9]+/gi, "-") + "-" + Math.random();
}

// Opens a fresh database at version 1, running `upgrade(db, tx)` in its
// upgradeneeded; resolves with the open connection.
function createDb(t, upgrade) {
  const name = dbName(t);
  t.add_cleanup(() => new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  }));
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = t.step_func(() => upgrade(request.result, request.transaction));
    request.onsuccess = t.step_func(() => {
      t.add_cleanup(() => request.result.close());
      resolve(request.result);
    });
    request.onerror = () => reject(request.error);
  });
}

// A promise for an IDBRequest's result.
function result(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

// A promise for a transaction's complete event (rejects on abort).
function completed(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error || new DOMException("aborted", "AbortError"));
  });
}

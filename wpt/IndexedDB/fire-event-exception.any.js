// META: global=window,worker
// META: title=IndexedDB: an exception thrown by a request's event listener aborts the transaction
// META: script=resources/support.js

// The listeners below throw on purpose; the harness must not count those
// reported exceptions as failures.
setup({ allow_uncaught_exception: true });

// A promise for the transaction's abort event (rejects on complete).
function aborted(tx) {
  return new Promise((resolve, reject) => {
    tx.onabort = () => resolve(tx.error);
    tx.oncomplete = () => reject(new Error("the transaction committed"));
  });
}

async function storeWithRecord(t) {
  return createDb(t, (db) => db.createObjectStore("s").put("kept", 1));
}

async function readAll(db) {
  return result(db.transaction("s").objectStore("s").getAll());
}

promise_test(async (t) => {
  const db = await storeWithRecord(t);
  const tx = db.transaction("s", "readwrite");
  const request = tx.objectStore("s").put("written", 2);
  request.onsuccess = () => {
    throw new Error("thrown by onsuccess");
  };
  const error = await aborted(tx);
  assert_equals(error.name, "AbortError", "transaction.error");
  assert_array_equals(await readAll(db), ["kept"], "the put was rolled back");
}, "An exception in a request's onsuccess aborts the transaction with AbortError");

promise_test(async (t) => {
  const db = await storeWithRecord(t);
  const tx = db.transaction("s");
  const request = tx.objectStore("s").get(1);
  const log = [];
  request.addEventListener("success", () => {
    log.push("first");
    throw new Error("thrown by a listener");
  });
  request.addEventListener("success", () => log.push("second"));
  const error = await aborted(tx);
  assert_equals(error.name, "AbortError");
  assert_array_equals(log, ["first", "second"], "the other listeners still ran");
}, "An exception in a success listener added with addEventListener aborts the transaction");

promise_test(async (t) => {
  const db = await storeWithRecord(t);
  const tx = db.transaction("s");
  tx.objectStore("s").get(1).addEventListener("success", {
    handleEvent() {
      throw new Error("thrown by handleEvent");
    },
  });
  assert_equals((await aborted(tx)).name, "AbortError");
}, "An exception in a success listener object's handleEvent aborts the transaction");

promise_test(async (t) => {
  const db = await storeWithRecord(t);
  const tx = db.transaction("s", "readwrite");
  const store = tx.objectStore("s");
  const later = store.get(1);
  const request = store.add("duplicate", 1);
  request.onerror = (event) => {
    event.preventDefault();
    throw new Error("thrown by onerror");
  };
  const laterError = new Promise((resolve) => {
    later.onsuccess = () => resolve(null);
    later.onerror = () => resolve(later.error);
  });
  const error = await aborted(tx);
  assert_equals(request.error.name, "ConstraintError", "request.error");
  assert_equals(error.name, "AbortError", "the exception wins over preventDefault()");
  assert_equals(await laterError, null, "the request before it had succeeded");
}, "An exception in an onerror that prevented the default still aborts the transaction with AbortError");

promise_test(async (t) => {
  const db = await storeWithRecord(t);
  const tx = db.transaction("s", "readwrite");
  const request = tx.objectStore("s").add("duplicate", 1);
  request.onerror = () => {};
  assert_equals((await aborted(tx)).name, "ConstraintError");
}, "An error event no listener cancels aborts the transaction with the request's error");

promise_test(async (t) => {
  const db = await storeWithRecord(t);
  const tx = db.transaction("s", "readwrite");
  const store = tx.objectStore("s");
  store.put("two", 2);
  const cursor = store.openCursor();
  let visits = 0;
  cursor.onsuccess = () => {
    visits++;
    if (visits === 2) throw new Error("thrown on the second record");
    cursor.result.continue();
  };
  assert_equals((await aborted(tx)).name, "AbortError");
  assert_equals(visits, 2, "the cursor stopped where the listener threw");
  assert_array_equals(await readAll(db), ["kept"]);
}, "An exception in a cursor request's onsuccess aborts the transaction");

promise_test(async (t) => {
  const name = dbName(t);
  t.add_cleanup(() => new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = request.onerror = () => resolve();
  }));
  const request = indexedDB.open(name, 1);
  let upgrade;
  request.onupgradeneeded = () => {
    upgrade = request.transaction;
    request.result.createObjectStore("s");
    throw new Error("thrown by onupgradeneeded");
  };
  const error = await new Promise((resolve, reject) => {
    request.onsuccess = () => {
      request.result.close();
      reject(new Error("the open succeeded"));
    };
    request.onerror = () => resolve(request.error);
  });
  assert_equals(error.name, "AbortError", "the open request's error");
  assert_equals(upgrade.error.name, "AbortError", "the upgrade transaction's error");
  const databases = await indexedDB.databases();
  assert_false(databases.some((info) => info.name === name && info.version === 1),
    "the version was not committed");
}, "An exception in onupgradeneeded aborts the upgrade");

// META: global=window,worker
// META: title=IDBFactory: versions, upgradeneeded, versionchange, blocked, deleteDatabase, databases
// META: script=resources/support.js

function opened(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

promise_test(async (t) => {
  const name = dbName(t);
  t.add_cleanup(() => opened(indexedDB.deleteDatabase(name)));
  const log = [];
  const first = indexedDB.open(name);
  first.onupgradeneeded = (e) => {
    log.push(`upgradeneeded ${e.oldVersion}->${e.newVersion}`);
    assert_true(e instanceof IDBVersionChangeEvent);
    assert_equals(first.transaction.mode, "versionchange");
    first.result.createObjectStore("s");
  };
  const db1 = await opened(first);
  assert_equals(db1.version, 1);
  assert_array_equals(Array.from(db1.objectStoreNames), ["s"]);
  db1.onversionchange = (e) => {
    log.push(`versionchange ${e.oldVersion}->${e.newVersion}`);
  };
  const second = indexedDB.open(name, 3);
  second.onblocked = (e) => {
    log.push(`blocked ${e.oldVersion}->${e.newVersion}`);
    db1.close();
  };
  second.onupgradeneeded = (e) => {
    log.push(`upgradeneeded ${e.oldVersion}->${e.newVersion}`);
    second.result.deleteObjectStore("s");
    second.result.createObjectStore("t");
  };
  const db2 = await opened(second);
  assert_equals(db2.version, 3);
  assert_array_equals(Array.from(db2.objectStoreNames), ["t"]);
  assert_array_equals(log, ["upgradeneeded 0->1", "versionchange 1->3", "blocked 1->3", "upgradeneeded 1->3"]);
  const list = await indexedDB.databases();
  assert_true(list.some((d) => d.name === name && d.version === 3), "databases() lists it");
  await promise_rejects_dom(t, "VersionError", opened(indexedDB.open(name, 2)));
  db2.onversionchange = () => db2.close();
  const deleted = indexedDB.deleteDatabase(name);
  const event = await new Promise((resolve) => { deleted.onsuccess = resolve; });
  assert_equals(event.oldVersion, 3);
  assert_equals(event.newVersion, null);
  assert_false((await indexedDB.databases()).some((d) => d.name === name), "deleted");
}, "An upgrade waits for other connections: versionchange, blocked, then upgradeneeded");

promise_test(async (t) => {
  const name = dbName(t);
  t.add_cleanup(() => opened(indexedDB.deleteDatabase(name)));
  const request = indexedDB.open(name, 5);
  request.onupgradeneeded = () => {
    request.result.createObjectStore("s");
    request.transaction.abort();
  };
  await promise_rejects_dom(t, "AbortError", opened(request));
  const db = await opened(indexedDB.open(name));
  assert_equals(db.version, 1, "the aborted upgrade created nothing");
  assert_equals(db.objectStoreNames.length, 0);
  db.close();
}, "Aborting the upgrade fails the open request with AbortError");

promise_test(async (t) => {
  const db = await createDb(t, (db) => {
    const s = db.createObjectStore("s", { keyPath: "a.b" });
    assert_equals(s.keyPath, "a.b");
    assert_throws_dom("ConstraintError", () => db.createObjectStore("s"));
    assert_throws_dom("SyntaxError", () => db.createObjectStore("bad", { keyPath: "a b" }));
    assert_throws_dom("InvalidAccessError", () => db.createObjectStore("bad", { keyPath: "", autoIncrement: true }));
    s.name = "renamed";
    assert_equals(s.name, "renamed");
  });
  assert_array_equals(Array.from(db.objectStoreNames), ["renamed"]);
  assert_throws_dom("InvalidStateError", () => db.createObjectStore("x"), "outside an upgrade");
  const tx = db.transaction("renamed", "readwrite");
  tx.objectStore("renamed").put({ a: { b: 7 } });
  assert_throws_dom("DataError", () => tx.objectStore("renamed").put({ a: 1 }));
  assert_equals(await result(tx.objectStore("renamed").getKey(7)), 7);
  await completed(tx);
}, "Schema errors: ConstraintError, SyntaxError, InvalidAccessError, InvalidStateError");

promise_test(async (t) => {
  const name = dbName(t);
  t.add_cleanup(() => opened(indexedDB.deleteDatabase(name)));
  const request = indexedDB.open(name, 1);
  request.onupgradeneeded = async () => {
    const store = request.result.createObjectStore("s");
    await Promise.resolve();
    await Promise.resolve();
    store.put("placed after two awaits", 1);
  };
  const db = await opened(request);
  assert_equals(await result(db.transaction("s").objectStore("s").get(1)), "placed after two awaits");
  db.close();
}, "The upgrade transaction stays active in the microtasks after upgradeneeded");

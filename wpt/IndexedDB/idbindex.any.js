// META: global=window,worker
// META: title=IDBIndex: unique, multiEntry, compound key paths, reads through an index
// META: script=resources/support.js

function people(db) {
  const s = db.createObjectStore("people", { keyPath: "id" });
  s.createIndex("byName", "name");
  s.createIndex("byEmail", "email", { unique: true });
  s.createIndex("byTag", "tags", { multiEntry: true });
  s.createIndex("byPlace", ["city", "street"]);
  s.put({ id: 1, name: "b", email: "b@x", tags: ["red", "blue", "red"], city: "X", street: "2" });
  s.put({ id: 2, name: "a", email: "a@x", tags: ["blue"], city: "X", street: "1" });
  s.put({ id: 3, name: "b", email: "c@x", tags: [], city: "Y", street: "1" });
}

promise_test(async (t) => {
  const db = await createDb(t, people);
  const store = db.transaction("people").objectStore("people");
  const byName = store.index("byName");
  assert_equals(byName.keyPath, "name");
  assert_false(byName.unique);
  assert_array_equals(await result(byName.getAllKeys("b")), [1, 3]);
  assert_equals((await result(byName.get("a"))).id, 2);
  assert_equals(await result(byName.getKey("b")), 1);
  assert_equals(await result(byName.count("b")), 2);
  assert_array_equals((await result(byName.getAll())).map((p) => p.id), [2, 1, 3]);
  const byTag = store.index("byTag");
  assert_true(byTag.multiEntry);
  assert_array_equals(await result(byTag.getAllKeys("blue")), [1, 2]);
  assert_array_equals(await result(byTag.getAllKeys("red")), [1], "a repeated member is one entry");
  assert_equals(await result(byTag.count()), 3);
  const byPlace = store.index("byPlace");
  assert_array_equals(byPlace.keyPath, ["city", "street"]);
  assert_array_equals(await result(byPlace.getAllKeys(IDBKeyRange.bound(["X"], ["X", []]))), [2, 1]);
  assert_array_equals(Array.from(store.indexNames), ["byEmail", "byName", "byPlace", "byTag"]);
}, "Reads through plain, multiEntry and compound indexes");

promise_test(async (t) => {
  const db = await createDb(t, people);
  const tx = db.transaction("people", "readwrite");
  const store = tx.objectStore("people");
  const clash = store.put({ id: 4, name: "d", email: "a@x", tags: [] });
  const seen = await new Promise((resolve) => {
    clash.onerror = (e) => { e.preventDefault(); resolve(clash.error.name); };
    clash.onsuccess = () => resolve("success");
  });
  assert_equals(seen, "ConstraintError");
  assert_equals(await result(store.put({ id: 2, name: "a2", email: "a@x", tags: [] })), 2,
    "a record may keep its own unique key");
  assert_equals(await result(store.index("byName").count("a")), 0, "the old index entry is gone");
  await completed(tx);
}, "A unique index refuses a second record with the same key (ConstraintError)");

promise_test(async (t) => {
  const db = await createDb(t, people);
  const tx = db.transaction("people", "readwrite");
  tx.objectStore("people").put({ id: 9, name: "z", email: "b@x" });
  const error = await new Promise((resolve) => { tx.onabort = () => resolve(tx.error); });
  assert_equals(error.name, "ConstraintError", "an unhandled request error aborts with its error");
  assert_equals(await result(db.transaction("people").objectStore("people").count()), 3);
}, "An unprevented ConstraintError aborts the transaction");

promise_test(async (t) => {
  const name = dbName(t);
  t.add_cleanup(() => result(indexedDB.deleteDatabase(name)));
  const open1 = indexedDB.open(name, 1);
  open1.onupgradeneeded = () => {
    const s = open1.result.createObjectStore("s");
    s.put({ e: "same" }, 1);
    s.put({ e: "same" }, 2);
  };
  (await result(open1)).close();
  const open2 = indexedDB.open(name, 2);
  open2.onupgradeneeded = () => {
    open2.transaction.objectStore("s").createIndex("e", "e", { unique: true });
  };
  const error = await new Promise((resolve) => {
    open2.onsuccess = () => resolve(null);
    open2.onerror = () => resolve(open2.error);
  });
  assert_equals(error && error.name, "AbortError", "the upgrade was aborted");
  const db = await result(indexedDB.open(name));
  assert_equals(db.version, 1, "the version is unchanged");
  assert_equals(db.transaction("s").objectStore("s").indexNames.length, 0);
  db.close();
}, "createIndex() over records that violate uniqueness aborts the upgrade");

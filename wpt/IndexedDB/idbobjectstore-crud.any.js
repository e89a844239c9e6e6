// META: global=window,worker
// META: title=IDBObjectStore: put, add, get, getAll, getAllKeys, getKey, count, delete, clear
// META: script=resources/support.js

promise_test(async (t) => {
  const db = await createDb(t, (db) => db.createObjectStore("s"));
  const tx = db.transaction("s", "readwrite");
  const store = tx.objectStore("s");
  assert_equals(await result(store.put("one", 1)), 1);
  assert_equals(await result(store.put({ a: [1, 2] }, "k")), "k");
  assert_equals(await result(store.get(1)), "one");
  assert_array_equals((await result(store.get("k"))).a, [1, 2]);
  assert_equals(await result(store.get(2)), undefined);
  await completed(tx);
}, "put() then get() in one readwrite transaction");

promise_test(async (t) => {
  const db = await createDb(t, (db) => db.createObjectStore("s", { keyPath: "id" }));
  const tx = db.transaction("s", "readwrite");
  const store = tx.objectStore("s");
  store.add({ id: 3, v: "c" });
  store.add({ id: 1, v: "a" });
  store.put({ id: 2, v: "b" });
  const dup = store.add({ id: 1, v: "again" });
  dup.onerror = t.step_func((e) => {
    assert_equals(dup.error.name, "ConstraintError");
    e.preventDefault();
  });
  assert_array_equals((await result(store.getAll())).map((r) => r.v), ["a", "b", "c"]);
  assert_array_equals(await result(store.getAllKeys()), [1, 2, 3]);
  assert_array_equals(await result(store.getAllKeys(IDBKeyRange.lowerBound(2))), [2, 3]);
  assert_array_equals((await result(store.getAll(null, 2))).map((r) => r.id), [1, 2]);
  assert_equals(await result(store.getKey(IDBKeyRange.lowerBound(1, true))), 2);
  assert_equals(await result(store.count()), 3);
  assert_equals(await result(store.count(IDBKeyRange.bound(1, 2))), 2);
  await result(store.delete(IDBKeyRange.upperBound(1)));
  assert_equals(await result(store.count()), 2);
  await result(store.clear());
  assert_equals(await result(store.count()), 0);
  await completed(tx);
}, "add() refuses an existing key with ConstraintError; ranges select records");

promise_test(async (t) => {
  const db = await createDb(t, (db) => db.createObjectStore("s", { keyPath: "id", autoIncrement: true }));
  const tx = db.transaction("s", "readwrite");
  const store = tx.objectStore("s");
  assert_equals(await result(store.put({ v: "a" })), 1);
  assert_equals(await result(store.put({ id: 10, v: "b" })), 10);
  assert_equals(await result(store.put({ v: "c" })), 11);
  const c = await result(store.get(11));
  assert_equals(c.id, 11, "the generated key is injected into the value");
  await completed(tx);
}, "A key generator gives 1, 2, ... and jumps past explicit number keys");

promise_test(async (t) => {
  const db = await createDb(t, (db) => db.createObjectStore("s"));
  const tx = db.transaction("s", "readonly");
  const store = tx.objectStore("s");
  assert_throws_dom("ReadOnlyError", () => store.put("x", 1));
  assert_throws_dom("DataError", () => store.get(NaN));
  assert_throws_dom("DataError", () => store.get({}));
  await completed(tx);
  assert_throws_dom("TransactionInactiveError", () => store.get(1));
  assert_throws_dom("NotFoundError", () => db.transaction("nope"));
}, "Error names: ReadOnlyError, DataError, TransactionInactiveError, NotFoundError");

promise_test(async (t) => {
  const db = await createDb(t, (db) => db.createObjectStore("s"));
  const tx = db.transaction("s", "readwrite");
  tx.objectStore("s").put("x", 1);
  tx.abort();
  await new Promise((resolve) => { tx.onabort = resolve; });
  assert_equals(tx.error, null);
  const read = db.transaction("s").objectStore("s");
  assert_equals(await result(read.get(1)), undefined, "an aborted write is undone");
}, "abort() undoes the transaction's writes");

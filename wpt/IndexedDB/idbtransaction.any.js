// META: global=window,worker
// META: title=IDBTransaction: event order, auto-commit, commit(), abort(), scheduling
// META: script=resources/support.js

promise_test(async (t) => {
  const db = await createDb(t, (db) => db.createObjectStore("s"));
  const log = [];
  const tx = db.transaction("s", "readwrite", { durability: "strict" });
  assert_equals(tx.durability, "strict");
  assert_equals(tx.mode, "readwrite");
  const store = tx.objectStore("s");
  const r1 = store.put("a", 1);
  const r2 = store.put("b", 2);
  r1.onsuccess = () => {
    log.push("r1");
    store.get(1).onsuccess = () => log.push("r3 (made in r1's handler)");
  };
  r2.onsuccess = () => log.push("r2");
  assert_equals(r1.readyState, "pending");
  assert_throws_dom("InvalidStateError", () => r1.result);
  await completed(tx).then(() => log.push("complete"));
  assert_array_equals(log, ["r1", "r2", "r3 (made in r1's handler)", "complete"]);
  assert_equals(r1.readyState, "done");
  assert_equals(r1.source, store);
  assert_equals(r1.transaction, tx);
}, "Requests succeed in order; complete fires after the last one");

promise_test(async (t) => {
  const db = await createDb(t, (db) => db.createObjectStore("s"));
  const tx = db.transaction("s", "readwrite");
  const store = tx.objectStore("s");
  const done = completed(tx);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert_throws_dom("TransactionInactiveError", () => store.put("late", 1),
    "the transaction is inactive once its creating task has ended");
  await done;
}, "A transaction with no requests commits when its task ends");

promise_test(async (t) => {
  const db = await createDb(t, (db) => db.createObjectStore("s"));
  const tx = db.transaction("s", "readwrite");
  const store = tx.objectStore("s");
  store.put("x", 1);
  tx.commit();
  assert_throws_dom("InvalidStateError", () => tx.commit());
  assert_throws_dom("TransactionInactiveError", () => store.put("y", 2));
  await completed(tx);
  assert_equals(await result(db.transaction("s").objectStore("s").get(1)), "x");
}, "commit() ends the transaction after its pending requests");

promise_test(async (t) => {
  const db = await createDb(t, (db) => db.createObjectStore("s"));
  const tx = db.transaction("s", "readwrite");
  const request = tx.objectStore("s").put("x", 1);
  const log = [];
  request.onerror = (e) => log.push("request error " + request.error.name);
  tx.onerror = () => log.push("transaction error (bubbled)");
  tx.onabort = () => log.push("abort");
  tx.abort();
  assert_throws_dom("InvalidStateError", () => tx.abort());
  await new Promise((resolve) => { tx.addEventListener("abort", resolve); });
  assert_array_equals(log, ["request error AbortError", "transaction error (bubbled)", "abort"]);
}, "abort(): pending requests fail with AbortError, then abort fires");

promise_test(async (t) => {
  const db = await createDb(t, (db) => { db.createObjectStore("a"); db.createObjectStore("b"); });
  const log = [];
  const w1 = db.transaction("a", "readwrite");
  const w2 = db.transaction(["a", "b"], "readwrite");
  const r1 = db.transaction("b", "readonly");
  const r2 = db.transaction("b", "readonly");
  w1.objectStore("a").put(1, "k").onsuccess = () => log.push("w1");
  w2.objectStore("a").get("k").onsuccess = (e) => log.push("w2 sees " + e.target.result);
  r1.objectStore("b").count().onsuccess = () => log.push("r1");
  r2.objectStore("b").count().onsuccess = () => log.push("r2");
  await Promise.all([completed(w1), completed(w2), completed(r1), completed(r2)]);
  assert_less_than(log.indexOf("w1"), log.indexOf("w2 sees 1"), "overlapping readwrite transactions run in order");
  assert_less_than(log.indexOf("w2 sees 1"), log.indexOf("r1"), "a readonly transaction waits for an earlier overlapping readwrite one");
  assert_true(log.includes("r2"));
}, "Scheduling: overlapping readwrite transactions serialise, readonly ones wait for earlier writers");

promise_test(async (t) => {
  const db = await createDb(t, (db) => db.createObjectStore("s"));
  const tx = db.transaction("s", "readwrite");
  const store = tx.objectStore("s");
  for (let i = 0; i < 3; i++) {
    await result(store.put(i, i));
  }
  assert_equals(await result(store.count()), 3, "promise continuations may place requests");
  await completed(tx);
}, "The transaction stays active in the microtasks after a success event");

// META: global=window,worker
// META: title=IndexedDB: request and transaction events travel request -> transaction -> connection
// META: script=resources/support.js

async function storeWithRecord(t) {
  return createDb(t, (db) => db.createObjectStore("s").put("kept", 1));
}

// Records each listener that saw `type` on the path as
// "<who> <phase> target=<who>", where <who> names request, tx or db.
function recordPath(type, request, tx, db) {
  const name = (target) => (target === request ? "request" : target === tx ? "tx" : target === db ? "db" : String(target));
  const log = [];
  const record = (who, options) => {
    const listener = (e) => {
      assert_equals(e.currentTarget, who === "request" ? request : who === "tx" ? tx : db, "currentTarget");
      log.push(`${who} ${options.capture ? "capture" : "bubble"} phase=${e.eventPhase} target=${name(e.target)}`);
    };
    return listener;
  };
  for (const [who, target] of [["db", db], ["tx", tx], ["request", request]]) {
    if (target === null) continue;
    target.addEventListener(type, record(who, { capture: true }), { capture: true });
    target.addEventListener(type, record(who, { capture: false }));
  }
  return log;
}

promise_test(async (t) => {
  const db = await storeWithRecord(t);
  const tx = db.transaction("s");
  const request = tx.objectStore("s").get(1);
  const log = recordPath("success", request, tx, db);
  await completed(tx);
  assert_array_equals(log, [
    "db capture phase=1 target=request",
    "tx capture phase=1 target=request",
    "request capture phase=2 target=request",
    "request bubble phase=2 target=request",
  ], "success does not bubble, but capture listeners on the transaction and the connection see it");
}, "A request's success event is captured by its transaction and its connection");

promise_test(async (t) => {
  const db = await storeWithRecord(t);
  const tx = db.transaction("s", "readwrite");
  const request = tx.objectStore("s").add("again", 1);
  const log = recordPath("error", request, tx, db);
  let seenByDb = null;
  db.onerror = (e) => {
    seenByDb = e.target.error.name;
  };
  await promise_rejects_dom(t, "ConstraintError", completed(tx), "an error no listener prevented aborts the transaction");
  assert_array_equals(log, [
    "db capture phase=1 target=request",
    "tx capture phase=1 target=request",
    "request capture phase=2 target=request",
    "request bubble phase=2 target=request",
    "tx bubble phase=3 target=request",
    "db bubble phase=3 target=request",
  ]);
  assert_equals(seenByDb, "ConstraintError", "db.onerror sees the request as the event's target");
}, "A request's error event is captured and bubbles through its transaction and its connection");

promise_test(async (t) => {
  const db = await storeWithRecord(t);
  const tx = db.transaction("s", "readwrite");
  tx.objectStore("s").add("again", 1);
  tx.objectStore("s").put("added", 2);
  db.addEventListener("error", (e) => e.preventDefault());
  await completed(tx);
  const rows = await result(db.transaction("s").objectStore("s").getAll());
  assert_array_equals(rows, ["kept", "added"], "the transaction went on after the failed request");
}, "preventDefault() in the connection's error listener keeps the transaction alive");

promise_test(async (t) => {
  const db = await storeWithRecord(t);
  const tx = db.transaction("s", "readwrite");
  const request = tx.objectStore("s").add("again", 1);
  const log = [];
  tx.addEventListener("error", (e) => {
    log.push("tx capture");
    e.stopPropagation();
  }, true);
  tx.addEventListener("error", (e) => {
    log.push("tx capture, same target");
    assert_equals(e.eventPhase, Event.CAPTURING_PHASE);
  }, true);
  request.onerror = () => log.push("request");
  db.onerror = () => log.push("db");
  await promise_rejects_dom(t, "ConstraintError", completed(tx), "stopping propagation does not cancel the event");
  assert_array_equals(log, ["tx capture", "tx capture, same target"]);
}, "stopPropagation() in a transaction's capture listener stops the event there");

promise_test(async (t) => {
  const db = await storeWithRecord(t);
  const tx = db.transaction("s");
  const request = tx.objectStore("s").get(1);
  let path = null;
  let active = null;
  let event = null;
  db.addEventListener("success", (e) => {
    if (event !== null) return;
    event = e;
    path = e.composedPath();
    // event-dispatch-active-flag: the transaction is active while any
    // listener on the path runs.
    try {
      tx.objectStore("s").get(1);
      active = true;
    } catch (error) {
      active = error.name;
    }
  }, true);
  await completed(tx);
  assert_array_equals(path, [request, tx, db]);
  assert_true(active, "the transaction is active in the connection's capture listener");
  assert_true(event.isTrusted);
  assert_equals(event.eventPhase, Event.NONE, "after dispatch");
  assert_equals(event.currentTarget, null, "after dispatch");
  assert_equals(event.target, request, "after dispatch");
  assert_array_equals(event.composedPath(), [], "after dispatch");
}, "The path is the request, its transaction and its connection, and the transaction is active along it");

promise_test(async (t) => {
  const db = await storeWithRecord(t);
  const tx = db.transaction("s");
  tx.objectStore("s").get(1);
  const log = [];
  db.addEventListener("complete", (e) => log.push(`db capture phase=${e.eventPhase} target=${e.target === tx ? "tx" : e.target}`), true);
  db.addEventListener("complete", () => log.push("db bubble"));
  await completed(tx);
  assert_array_equals(log, ["db capture phase=1 target=tx"], "complete does not bubble");
}, "A transaction's complete event is captured by its connection");

promise_test(async (t) => {
  const db = await storeWithRecord(t);
  const tx = db.transaction("s");
  const aborted = new Promise((resolve) => {
    db.onabort = (e) => resolve(e);
  });
  tx.abort();
  const event = await aborted;
  assert_equals(event.target, tx);
  assert_true(event.bubbles);
}, "A transaction's abort event bubbles to its connection");

promise_test(async (t) => {
  const db = await storeWithRecord(t);
  const tx = db.transaction("s");
  const request = tx.objectStore("s").get(1);
  const log = [];
  assert_equals(request.onsuccess, null);
  request.onsuccess = 1;
  assert_equals(request.onsuccess, null, "a value that is not an object is null");
  request.addEventListener("success", () => log.push("added before"));
  request.onsuccess = () => log.push("first handler");
  request.addEventListener("success", () => log.push("added after"));
  const replaced = function (e) {
    log.push(`replaced handler, this is the request: ${this === request}, argument is the event: ${e.type}`);
  };
  request.onsuccess = replaced;
  assert_equals(request.onsuccess, replaced);
  await completed(tx);
  assert_array_equals(log, [
    "added before",
    "replaced handler, this is the request: true, argument is the event: success",
    "added after",
  ], "the handler keeps the place its first value took among the listeners");
}, "A request's onsuccess runs in the place it was first set, with its latest value");

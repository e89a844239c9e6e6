// META: global=window,worker
// META: title=IDBCursor: directions, continue, advance, continuePrimaryKey, update, delete
// META: script=resources/support.js

function fill(db) {
  const s = db.createObjectStore("s");
  s.createIndex("v", "v");
  const values = { 1: "a", 2: "b", 3: "a", 4: "c", 5: "b" };
  for (const k in values) s.put({ v: values[k] }, Number(k));
}

// Walks a cursor request to its end, calling `step(cursor)` at each record;
// `step` moves the cursor (default: continue()).
function walk(request, step = (c) => c.continue()) {
  return new Promise((resolve, reject) => {
    const seen = [];
    request.onsuccess = () => {
      const cursor = request.result;
      if (!cursor) return resolve(seen);
      seen.push([cursor.key, cursor.primaryKey]);
      step(cursor);
    };
    request.onerror = () => reject(request.error);
  });
}

promise_test(async (t) => {
  const db = await createDb(t, fill);
  const store = db.transaction("s").objectStore("s");
  const keys = (pairs) => pairs.map((p) => p[1]);
  assert_array_equals(keys(await walk(store.openCursor())), [1, 2, 3, 4, 5]);
  assert_array_equals(keys(await walk(store.openCursor(null, "prev"))), [5, 4, 3, 2, 1]);
  assert_array_equals(keys(await walk(store.openCursor(IDBKeyRange.bound(2, 4, false, true)))), [2, 3]);
  assert_array_equals(keys(await walk(store.openKeyCursor(IDBKeyRange.lowerBound(3), "prevunique"))), [5, 4, 3]);
}, "Object store cursors in both directions over ranges");

promise_test(async (t) => {
  const db = await createDb(t, fill);
  const index = db.transaction("s").objectStore("s").index("v");
  const flat = (pairs) => pairs.map((p) => p.join(":")).join(" ");
  assert_equals(flat(await walk(index.openCursor())), "a:1 a:3 b:2 b:5 c:4");
  assert_equals(flat(await walk(index.openCursor(null, "prev"))), "c:4 b:5 b:2 a:3 a:1");
  assert_equals(flat(await walk(index.openCursor(null, "nextunique"))), "a:1 b:2 c:4");
  assert_equals(flat(await walk(index.openCursor(null, "prevunique"))), "c:4 b:2 a:1",
    "prevunique gives the first record of each key");
  assert_equals(flat(await walk(index.openKeyCursor(IDBKeyRange.only("b")))), "b:2 b:5");
}, "Index cursors: next, prev, nextunique, prevunique");

promise_test(async (t) => {
  const db = await createDb(t, fill);
  const index = db.transaction("s").objectStore("s").index("v");
  let jumped = false;
  const seen = await walk(index.openCursor(), (c) => {
    if (!jumped) {
      jumped = true;
      c.continue("b");
    } else {
      c.continue();
    }
  });
  assert_equals(seen.map((p) => p[1]).join(), "1,2,5,4", "continue(key) jumps to the key");
  let pk = false;
  const seen2 = await walk(index.openCursor(), (c) => {
    if (!pk) {
      pk = true;
      c.continuePrimaryKey("b", 5);
    } else {
      c.continue();
    }
  });
  assert_equals(seen2.map((p) => p[1]).join(), "1,5,4", "continuePrimaryKey() jumps to (key, primary key)");
  let advanced = false;
  const seen3 = await walk(index.openCursor(), (c) => {
    if (!advanced) {
      advanced = true;
      c.advance(3);
    } else {
      c.continue();
    }
  });
  assert_equals(seen3.map((p) => p[1]).join(), "1,5,4", "advance(3) skips two records");
}, "continue(key), continuePrimaryKey() and advance()");

promise_test(async (t) => {
  const db = await createDb(t, fill);
  const tx = db.transaction("s", "readwrite");
  const store = tx.objectStore("s");
  const request = store.openCursor();
  await new Promise((resolve, reject) => {
    request.onsuccess = () => {
      const cursor = request.result;
      if (!cursor) return resolve();
      assert_throws_dom("DataError", () => cursor.continue(cursor.key), "continue() to the same key");
      if (cursor.value.v === "a") cursor.delete();
      else cursor.update({ v: cursor.value.v.toUpperCase() });
      cursor.continue();
      assert_throws_dom("InvalidStateError", () => cursor.continue(), "continue() twice");
    };
    request.onerror = () => reject(request.error);
  });
  assert_throws_dom("InvalidStateError", () => store.openCursor().result);
  const all = await result(store.getAll());
  assert_array_equals(all.map((r) => r.v), ["B", "C", "B"]);
  assert_array_equals(await result(store.index("v").getAllKeys("B")), [2, 5], "update() moves index entries");
  await completed(tx);
}, "update() and delete() through a cursor");

promise_test(async (t) => {
  const db = await createDb(t, fill);
  const tx = db.transaction("s");
  const request = tx.objectStore("s").openCursor();
  await new Promise((resolve) => {
    request.onsuccess = () => {
      assert_throws_dom("ReadOnlyError", () => request.result.update({}));
      assert_throws_dom("ReadOnlyError", () => request.result.delete());
      resolve();
    };
  });
  await completed(tx);
}, "update() and delete() in a readonly transaction are ReadOnlyError");

promise_test(async (t) => {
  const db = await createDb(t, (db) => {
    const s = db.createObjectStore("s");
    for (let i = 0; i < 100; i += 2) s.put(i, i);
  });
  const tx = db.transaction("s", "readwrite");
  const store = tx.objectStore("s");
  const request = store.openCursor();
  const seen = [];
  await new Promise((resolve) => {
    request.onsuccess = () => {
      const cursor = request.result;
      if (!cursor) return resolve();
      seen.push(cursor.key);
      if (cursor.key === 10) {
        store.delete(12);
        store.put("new", 13);
      }
      cursor.continue();
    };
  });
  assert_equals(seen.slice(0, 8).join(), "0,2,4,6,8,10,13,14", "writes made while iterating are seen");
  assert_equals(seen.length, 50);
  await completed(tx);
}, "A cursor sees the writes its transaction makes while it iterates");

promise_test(async (t) => {
  const N = 3000;
  const db = await createDb(t, (db) => {
    const s = db.createObjectStore("s");
    for (let i = 0; i < N; i++) s.put({ n: i, tags: [i % 3] }, i);
  });
  const tx = db.transaction("s", "readwrite");
  const request = tx.objectStore("s").openCursor();
  const checked = [];
  let previous = null;
  let steps = 0;
  await new Promise((resolve, reject) => {
    request.onsuccess = t.step_func(() => {
      const cursor = request.result;
      if (!cursor) return resolve();
      steps++;
      if (previous !== null) {
        assert_equals(previous.n, cursor.key - 1, "the previous value stays what it was");
      }
      previous = null;
      // Read the value on some records only, before or after continue().
      if (cursor.key % 250 === 0) {
        const value = cursor.value;
        assert_equals(cursor.value, value, "the same object each time");
        assert_equals(value.n, cursor.key);
        assert_array_equals(value.tags, [cursor.key % 3]);
        checked.push(cursor.primaryKey);
      }
      if (cursor.key === 1000) cursor.update({ n: 1000, tags: ["updated"] });
      cursor.continue();
      if (cursor.key % 250 === 1) {
        // After continue(), the cursor still holds the record it was at.
        previous = cursor.value;
        assert_equals(previous.n, cursor.key);
      }
    });
    request.onerror = () => reject(request.error);
  });
  assert_equals(steps, N);
  assert_equals(checked.length, N / 250);
  await completed(tx);
  const updated = await result(db.transaction("s").objectStore("s").get(1000));
  assert_array_equals(updated.tags, ["updated"]);
}, "A long walk reads each record's key and value when asked, also after continue() and a write");

// META: global=window,worker
// META: title=IndexedDB values: the structured clone of Date, RegExp, Map, Set, buffers and views
// META: script=resources/support.js

promise_test(async (t) => {
  const db = await createDb(t, (db) => db.createObjectStore("s"));
  const buffer = new Uint8Array([1, 2, 3]).buffer;
  const value = {
    date: new Date(1234),
    regexp: /ab+c/gi,
    map: new Map([["k", 1], [2, { x: true }]]),
    set: new Set(["a", 3]),
    buffer,
    bytes: new Uint16Array([1, 65535]),
    floats: new Float64Array([0.5, -1]),
    nested: [null, undefined, -0, NaN, 10n, "s"],
  };
  value.self = value;
  const tx = db.transaction("s", "readwrite");
  tx.objectStore("s").put(value, 1);
  value.date.setTime(0);
  await completed(tx);
  const got = await result(db.transaction("s").objectStore("s").get(1));
  assert_true(got.date instanceof Date);
  assert_equals(got.date.getTime(), 1234, "the value was cloned when put() was called");
  assert_true(got.regexp instanceof RegExp);
  assert_equals(got.regexp.source, "ab+c");
  assert_equals(got.regexp.flags, "gi");
  assert_true(got.map instanceof Map);
  assert_equals(got.map.get("k"), 1);
  assert_true(got.map.get(2).x);
  assert_true(got.set instanceof Set);
  assert_true(got.set.has("a") && got.set.has(3));
  assert_true(got.buffer instanceof ArrayBuffer);
  assert_array_equals(new Uint8Array(got.buffer), [1, 2, 3]);
  assert_true(got.bytes instanceof Uint16Array);
  assert_array_equals(got.bytes, [1, 65535]);
  assert_array_equals(got.floats, [0.5, -1]);
  assert_equals(got.nested[1], undefined);
  assert_true(Object.is(got.nested[2], -0));
  assert_true(Number.isNaN(got.nested[3]));
  assert_equals(got.nested[4], 10n);
  assert_equals(got.self, got, "cycles are kept");
}, "Values round-trip through the structured clone algorithm");

promise_test(async (t) => {
  const db = await createDb(t, (db) => db.createObjectStore("s"));
  const tx = db.transaction("s", "readwrite");
  const store = tx.objectStore("s");
  assert_throws_dom("DataCloneError", () => store.put(() => 1, 1));
  await completed(tx);
}, "put() of a value that cannot be cloned throws DataCloneError");

promise_test(async (t) => {
  const db = await createDb(t, (db) => db.createObjectStore("s"));
  const tx = db.transaction("s", "readwrite");
  const blob = new Blob(["hello ", new Uint8Array([119, 111, 114, 108, 100])], { type: "text/plain" });
  const file = new File([blob.slice(0, 5)], "greeting.txt", { type: "text/x-greeting", lastModified: 42 });
  tx.objectStore("s").put({ blob, nested: { file } }, 1);
  await completed(tx);
  const got = await result(db.transaction("s").objectStore("s").get(1));
  assert_true(got.blob instanceof Blob);
  assert_equals(got.blob.type, "text/plain");
  assert_equals(got.blob.size, 11);
  assert_equals(await got.blob.text(), "hello world");
  const f = got.nested.file;
  assert_true(f instanceof File);
  assert_equals(f.name, "greeting.txt");
  assert_equals(f.lastModified, 42);
  assert_equals(f.type, "text/x-greeting");
  assert_equals(await f.text(), "hello");
}, "Blob and File values round-trip with their bytes, type, name and lastModified");

// META: global=window,worker
// META: title=IndexedDB keys: indexedDB.cmp ordering, key validity, IDBKeyRange

test(() => {
  const ordered = [
    -Infinity, -1, -0.5, 0, 1e-300, 1, Infinity,
    new Date(-1), new Date(0), new Date(1e12),
    "", "\0", "A", "a", "a\0", "aa", "b", "\uD800\uDC00", "\uFFFF",
    new Uint8Array([]).buffer, new Uint8Array([0]), new Uint8Array([0, 0]), new Uint8Array([1]), new Uint8Array([255]),
    [], [-1], [1], [1, 0], [1, "a"], ["a"], [[]], [[1]],
  ];
  for (let i = 0; i < ordered.length; i++) {
    for (let j = 0; j < ordered.length; j++) {
      const expected = i < j ? -1 : i > j ? 1 : 0;
      assert_equals(indexedDB.cmp(ordered[i], ordered[j]), expected,
        `cmp(${String(ordered[i])}, ${String(ordered[j])}) (#${i} vs #${j})`);
    }
  }
}, "cmp() orders number < date < string < binary < array, strings by UTF-16 code unit");

test(() => {
  assert_equals(indexedDB.cmp(-0, 0), 0);
  assert_equals(indexedDB.cmp(new Date(5), new Date(5)), 0);
  assert_equals(indexedDB.cmp(new Uint16Array([1]), new Uint8Array([1, 0])), 0, "views compare their bytes");
}, "cmp() equalities");

test(() => {
  for (const invalid of [NaN, new Date(NaN), {}, null, undefined, true, Symbol(), () => 1, [NaN], [{}], /x/]) {
    assert_throws_dom("DataError", () => indexedDB.cmp(invalid, 1), String(invalid));
  }
  const cyclic = [1];
  cyclic.push(cyclic);
  assert_throws_dom("DataError", () => indexedDB.cmp(cyclic, 1), "a cyclic array");
  const sparse = [1, , 3];
  assert_throws_dom("DataError", () => indexedDB.cmp(sparse, 1), "a sparse array");
}, "cmp() throws DataError for values that are not keys");

test(() => {
  const r = IDBKeyRange.bound(1, 5, true, false);
  assert_equals(r.lower, 1);
  assert_equals(r.upper, 5);
  assert_true(r.lowerOpen);
  assert_false(r.upperOpen);
  assert_false(r.includes(1));
  assert_true(r.includes(5));
  assert_true(r.includes(3));
  assert_false(r.includes("3"));
  assert_true(IDBKeyRange.only("x").includes("x"));
  assert_equals(IDBKeyRange.lowerBound(2).upper, undefined);
  assert_true(IDBKeyRange.upperBound(2, true).upperOpen);
  assert_throws_dom("DataError", () => IDBKeyRange.bound(5, 1));
  assert_throws_dom("DataError", () => IDBKeyRange.bound(1, 1, true, false));
  assert_throws_dom("DataError", () => IDBKeyRange.only(NaN));
  assert_throws_js(TypeError, () => new IDBKeyRange());
  const d = IDBKeyRange.only(new Date(7)).lower;
  assert_true(d instanceof Date);
  assert_equals(d.getTime(), 7);
}, "IDBKeyRange bounds, includes() and errors");

test(() => {
  assert_throws_js(TypeError, () => new IDBFactory());
  assert_throws_js(TypeError, () => new IDBDatabase());
  assert_throws_js(TypeError, () => IDBFactory.prototype.cmp.call({}, 1, 2));
  assert_equals(String(indexedDB), "[object IDBFactory]");
  assert_true(indexedDB instanceof IDBFactory);
  const ev = new IDBVersionChangeEvent("versionchange", { oldVersion: 1, newVersion: 2 });
  assert_equals(ev.oldVersion, 1);
  assert_equals(ev.newVersion, 2);
  assert_equals(new IDBVersionChangeEvent("x").newVersion, null);
}, "Interfaces: illegal constructors, brand checks, IDBVersionChangeEvent");

promise_test(async () => {
  const { usage, quota } = await navigator.storage.estimate();
  assert_equals(typeof usage, "number");
  assert_greater_than(quota, 0);
  assert_true(await navigator.storage.persisted());
  assert_true(await navigator.storage.persist());
  assert_true(navigator.storage instanceof StorageManager);
}, "navigator.storage: estimate(), persist(), persisted()");

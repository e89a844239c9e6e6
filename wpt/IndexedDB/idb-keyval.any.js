// META: global=window,worker
// META: title=idb-keyval (from npm, installed by scripts/setup.sh) on swrt's IndexedDB
// META: script=/node_modules/idb-keyval/dist/umd.js

promise_test(async (t) => {
  const store = idbKeyval.createStore("swrt-keyval-" + Math.random(), "kv");
  await idbKeyval.set("hello", { world: [1, 2] }, store);
  await idbKeyval.setMany([["a", 1], ["b", new Date(5)]], store);
  assert_array_equals((await idbKeyval.get("hello", store)).world, [1, 2]);
  assert_equals((await idbKeyval.get("b", store)).getTime(), 5);
  await idbKeyval.update("a", (v) => v + 41, store);
  assert_array_equals(await idbKeyval.getMany(["a", "missing"], store), [42, undefined]);
  assert_array_equals((await idbKeyval.keys(store)).sort(), ["a", "b", "hello"]);
  assert_equals((await idbKeyval.entries(store)).length, 3);
  await idbKeyval.delMany(["a", "b"], store);
  assert_array_equals(await idbKeyval.values(store).then((v) => v.map((x) => JSON.stringify(x))), ['{"world":[1,2]}']);
  await idbKeyval.clear(store);
  assert_equals((await idbKeyval.keys(store)).length, 0);
}, "idb-keyval: set, setMany, get, getMany, update, keys, values, entries, delMany, clear");

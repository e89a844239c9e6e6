// META: global=window,worker
// META: title=Cache API basics
'use strict';

promise_test(async (t) => {
  const name = "swrt-basics-" + Math.random();
  const cache = await caches.open(name);
  t.add_cleanup(() => caches.delete(name));
  await cache.put("/cache-storage/entry", new Response("cached body"));
  const response = await cache.match("/cache-storage/entry");
  assert_equals(await response.text(), "cached body");
  assert_true(await caches.has(name));
  const keys = await cache.keys();
  assert_equals(keys.length, 1);
  assert_true(await cache.delete("/cache-storage/entry"));
  assert_equals(await cache.match("/cache-storage/entry"), undefined);
}, "open, put, match, keys, delete");

promise_test(async () => {
  assert_false(await caches.delete("swrt-never-created"));
}, "caches.delete() of an unknown cache resolves false");

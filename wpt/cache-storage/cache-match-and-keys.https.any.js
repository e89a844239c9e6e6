// META: global=window,worker
// META: title=Cache.addAll is atomic; match options; caches.keys() order

async function freshCache(t) {
  const name = "swrt-match-" + Math.random();
  t.add_cleanup(() => caches.delete(name));
  return await caches.open(name);
}

promise_test(async (t) => {
  const cache = await freshCache(t);
  await promise_rejects_js(t, TypeError, cache.addAll(["resources/simple.txt", "resources/missing.txt"]));
  assert_equals((await cache.keys()).length, 0, "the good response is not stored either");
  await cache.put("resources/simple.txt?kept", new Response("kept"));
  await promise_rejects_js(t, TypeError, cache.addAll(["resources/simple.txt?kept", "resources/missing.txt"]));
  assert_equals(await (await cache.match("resources/simple.txt?kept")).text(), "kept",
                "a failed addAll() leaves existing entries as they were");
}, "addAll() with one failing response stores nothing");

promise_test(async (t) => {
  const cache = await freshCache(t);
  await cache.put("resources/simple.txt?a=1", new Response("one"));
  assert_equals(await cache.match("resources/simple.txt?a=2"), undefined);
  assert_equals(await (await cache.match("resources/simple.txt?a=2", { ignoreSearch: true })).text(), "one");
  assert_equals(await (await cache.match("resources/simple.txt", { ignoreSearch: true })).text(), "one");
  const post = new Request("resources/simple.txt?a=1", { method: "POST" });
  assert_equals(await cache.match(post), undefined, "a POST request matches nothing");
  assert_equals(await (await cache.match(post, { ignoreMethod: true })).text(), "one");
  assert_equals((await cache.matchAll("resources/simple.txt", { ignoreSearch: true })).length, 1);
}, "match() and matchAll() honour ignoreSearch and ignoreMethod");

promise_test(async (t) => {
  const cache = await freshCache(t);
  const url = "resources/vary-test";
  await cache.put(new Request(url, { headers: { "X-Kind": "a" } }),
                  new Response("a", { headers: { Vary: "X-Kind" } }));
  await cache.put(new Request(url, { headers: { "X-Kind": "b" } }),
                  new Response("b", { headers: { Vary: "X-Kind" } }));
  assert_equals((await cache.matchAll(url, { ignoreVary: true })).length, 2, "one entry per Vary value");
  assert_equals(await (await cache.match(new Request(url, { headers: { "X-Kind": "b" } }))).text(), "b");
  assert_equals(await cache.match(new Request(url, { headers: { "X-Kind": "c" } })), undefined);
  assert_equals(await cache.match(url), undefined, "no X-Kind header is another value");
  assert_not_equals(await cache.match(url, { ignoreVary: true }), undefined);
}, "match() honours the Vary header of stored entries unless ignoreVary");

promise_test(async (t) => {
  const prefix = "swrt-order-" + Math.random() + "-";
  const names = ["c", "a", "b"].map((n) => prefix + n);
  t.add_cleanup(() => Promise.all(names.map((n) => caches.delete(n))));
  for (const name of names) await caches.open(name);
  await caches.open(names[0]);
  const keys = (await caches.keys()).filter((k) => k.startsWith(prefix));
  assert_array_equals(keys, names, "creation order, not sorted, and reopening keeps the place");
  await caches.delete(names[0]);
  await caches.open(names[0]);
  const after = (await caches.keys()).filter((k) => k.startsWith(prefix));
  assert_array_equals(after, [names[1], names[2], names[0]], "a deleted and recreated cache comes last");
}, "caches.keys() lists names in creation order");

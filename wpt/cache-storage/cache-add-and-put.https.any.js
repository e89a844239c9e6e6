// META: global=window,worker
// META: title=Cache.add, addAll and put refuse what the Cache API says they must

async function freshCache(t) {
  const name = "swrt-add-put-" + Math.random();
  t.add_cleanup(() => caches.delete(name));
  return await caches.open(name);
}

promise_test(async (t) => {
  const cache = await freshCache(t);
  await promise_rejects_dom(t, "InvalidStateError",
    cache.addAll(["resources/simple.txt#one", "resources/simple.txt#two"]));
  assert_equals((await cache.keys()).length, 0, "nothing is stored");
}, "addAll() of two requests that differ only by fragment is an InvalidStateError");

promise_test(async (t) => {
  const cache = await freshCache(t);
  await cache.addAll([
    new Request("resources/varies.txt", { headers: { Accept: "text/a" } }),
    new Request("resources/varies.txt", { headers: { Accept: "text/b" } }),
  ]);
  assert_equals((await cache.matchAll("resources/varies.txt", { ignoreVary: true })).length, 2);
}, "addAll() of one URL with requests its responses' Vary tells apart stores both");

promise_test(async (t) => {
  const cache = await freshCache(t);
  await promise_rejects_js(t, TypeError, cache.put(new Request("resources/simple.txt", { method: "POST" }), new Response("x")));
  await promise_rejects_js(t, TypeError, cache.put("data:text/plain,x", new Response("x")));
  await promise_rejects_js(t, TypeError, cache.put("resources/simple.txt", new Response("x", { status: 206 })));
  await promise_rejects_js(t, TypeError, cache.put("resources/simple.txt", new Response("x", { headers: { Vary: "*" } })));
  const used = new Response("x");
  await used.text();
  await promise_rejects_js(t, TypeError, cache.put("resources/simple.txt", used));
  await promise_rejects_js(t, TypeError, cache.add(new Request("resources/simple.txt", { method: "POST" })));
  assert_equals((await cache.keys()).length, 0, "nothing is stored");
}, "put() and add() refuse non-GET requests, non-http(s) URLs, 206, Vary: * and used bodies");

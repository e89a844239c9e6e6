// The Cache API in a worker: put/match/matchAll/keys/delete, Vary, several
// entries per URL where the rules allow, persistence across runs.
self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open("v1");
    console.log("has v1", await caches.has("v1"), "has v2", await caches.has("v2"));
    await cache.put("/a", new Response("alpha", { headers: { "content-type": "text/plain" } }));
    await cache.put(new Request("/b?x=1"), new Response("beta1"));
    await cache.put(new Request("/b?x=2"), new Response("beta2"));
    await cache.put("/b?x=1", new Response("beta1-replaced"));
    console.log("a", await (await cache.match("/a")).text(), (await cache.match("/a")).headers.get("content-type"));
    console.log("b?x=1", await (await cache.match("/b?x=1")).text());
    console.log("b ignoreSearch", (await cache.matchAll("/b", { ignoreSearch: true })).length);
    console.log("keys", (await cache.keys()).map((r) => new URL(r.url).pathname + new URL(r.url).search).join(" "));
    await cache.put(new Request("/v", { headers: { "accept-language": "en" } }), new Response("english", { headers: { vary: "Accept-Language" } }));
    await cache.put(new Request("/v", { headers: { "accept-language": "fr" } }), new Response("french", { headers: { vary: "Accept-Language" } }));
    const fr = await cache.match(new Request("/v", { headers: { "accept-language": "fr" } }));
    console.log("vary entries", (await cache.matchAll("/v", { ignoreVary: true })).length, "fr", await fr.text());
    try { await cache.put("/p", new Response("x", { status: 206 })); } catch (e) { console.log("206:", e.name); }
    try { await cache.put(new Request("/post", { method: "POST", body: "x" }), new Response("x")); } catch (e) { console.log("POST:", e.name); }
    try { await cache.put("/star", new Response("x", { headers: { vary: "*" } })); } catch (e) { console.log("Vary *:", e.name); }
    console.log("delete b", await cache.delete("/b", { ignoreSearch: true }), await cache.delete("/nothing"));
    console.log("caches.match", await (await caches.match("/a")).text(), await caches.match("/a", { cacheName: "nope" }));
    await (await caches.open("trash")).put("/t", new Response("t"));
    console.log("keys", JSON.stringify(await caches.keys()), "delete trash", await caches.delete("trash"), JSON.stringify(await caches.keys()));
  })());
});

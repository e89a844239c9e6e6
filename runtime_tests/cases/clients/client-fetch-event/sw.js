// A fetch handler serving from the cache, with network fallback.
self.addEventListener("install", (event) => {
  event.waitUntil(caches.open("site").then((c) => c.put("/cached.txt", new Response("from the cache", { headers: { "x-source": "cache" } }))));
});
self.addEventListener("activate", (event) => event.waitUntil(clients.claim()));
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (url.pathname === "/cached.txt") {
    event.respondWith(caches.match(event.request));
  } else if (url.pathname === "/made-up") {
    event.respondWith(new Response(`made by the worker for ${event.request.method} ${event.clientId.length}`, { status: 201 }));
  } else if (url.pathname === "/broken") {
    event.respondWith(Promise.reject(new Error("nope")));
  } else if (url.pathname === "/echo-body") {
    event.respondWith(event.request.text().then((t) => new Response(`got ${t}`)));
  } else if (url.pathname === "/checksum") {
    event.respondWith(event.request.arrayBuffer().then((b) => {
      const bytes = new Uint8Array(b);
      let sum = 0;
      for (let i = 0; i < bytes.length; i++) sum = (sum * 31 + bytes[i]) % 1000000007;
      return new Response(`checksum ${bytes.length} ${sum}`);
    }));
  }
  // Anything else: no respondWith, the page goes to the network.
});

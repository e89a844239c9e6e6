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
  }
  // Anything else: no respondWith, the page goes to the network.
});

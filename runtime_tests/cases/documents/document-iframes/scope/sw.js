self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.mode === "navigate") {
    console.log("sw: navigation to", url.pathname);
    return;
  }
  if (url.pathname.endsWith("/greeting.txt")) event.respondWith(new Response("hi from the worker"));
});
self.addEventListener("message", (event) => {
  event.waitUntil((async () => {
    const all = await self.clients.matchAll({ includeUncontrolled: true });
    const described = all.map((c) => `${new URL(c.url).pathname} ${c.frameType}`).sort();
    event.source.postMessage(described.join(", "));
  })());
});

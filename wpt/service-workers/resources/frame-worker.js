self.addEventListener("fetch", (event) => {
  if (event.request.url.endsWith("/intercepted.txt")) {
    event.respondWith(new Response("from the worker: " + event.request.url));
  }
});
self.addEventListener("message", (event) => {
  event.waitUntil((async () => {
    const all = await self.clients.matchAll({ includeUncontrolled: true });
    const described = all.map((c) => `${c.url.split("/").pop()} ${c.frameType}`).sort();
    if (event.ports[0]) event.ports[0].postMessage(described);
    else event.source.postMessage(described);
  })());
});

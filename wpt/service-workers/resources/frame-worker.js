// The resultingClientId of each navigation it saw, by URL.
const navigations = new Map();

self.addEventListener("fetch", (event) => {
  if (event.request.mode === "navigate") navigations.set(event.request.url, event.resultingClientId);
  if (event.request.url.endsWith("/intercepted.txt")) {
    event.respondWith(new Response("from the worker: " + event.request.url));
  }
});
self.addEventListener("message", (event) => {
  event.waitUntil((async () => {
    const all = await self.clients.matchAll({ includeUncontrolled: true });
    let reply;
    if (event.data === "ancestors") {
      reply = all.map((c) => ({
        name: c.url.split("/").pop(),
        frameType: c.frameType,
        ancestorOrigins: [...c.ancestorOrigins],
        frozen: Object.isFrozen(c.ancestorOrigins),
        sameObject: c.ancestorOrigins === c.ancestorOrigins,
        navigatedAs: navigations.has(c.url) ? navigations.get(c.url) === c.id : "not seen",
      })).sort((a, b) => a.name.localeCompare(b.name));
    } else {
      reply = all.map((c) => `${c.url.split("/").pop()} ${c.frameType}`).sort();
    }
    if (event.ports[0]) event.ports[0].postMessage(reply);
    else event.source.postMessage(reply);
  })());
});

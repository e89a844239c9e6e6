self.addEventListener("install", () => skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(clients.claim()));
self.addEventListener("fetch", (event) => {
  if (!event.request.url.endsWith("/data.txt")) return;
  event.respondWith((async () => {
    const client = await clients.get(event.clientId);
    const controlled = (await clients.matchAll({ type: "all" })).map((c) => c.type).sort();
    const workers = await clients.matchAll({ type: "worker" });
    const shared = await clients.matchAll({ type: "sharedworker" });
    return new Response(
      `answered by the service worker for a ${client.type} client (${new URL(client.url).pathname}); ` +
        `controlled clients: ${controlled.join(",")}; workers: ${workers.length}, shared workers: ${shared.length}`,
    );
  })());
});

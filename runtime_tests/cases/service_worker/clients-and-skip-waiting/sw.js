// clients and skipWaiting reach the host.
self.addEventListener("install", (event) => {
  event.waitUntil(self.skipWaiting().then((v) => console.log("skipWaiting resolved", v)));
});
self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    await clients.claim();
    const all = await clients.matchAll({ includeUncontrolled: true });
    console.log("clients", all.length);
    const win = await clients.openWindow("/episode/1");
    console.log("openWindow", win);
    try {
      await clients.openWindow("javascript:alert(1)");
    } catch (err) {
      console.log("bad url:", err.name);
    }
  })());
});

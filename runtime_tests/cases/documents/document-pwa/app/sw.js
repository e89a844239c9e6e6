self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
self.addEventListener("fetch", (event) => {
  if (event.request.mode === "navigate") console.log("sw: navigation", new URL(event.request.url).pathname, event.request.destination);
});
self.addEventListener("backgroundfetchsuccess", (event) => {
  event.waitUntil((async () => {
    const records = await event.registration.matchAll();
    const response = await records[0].responseReady;
    const bytes = (await response.arrayBuffer()).byteLength;
    console.log("sw: backgroundfetchsuccess", event.registration.id, bytes, "bytes");
    const channel = new BroadcastChannel("downloads");
    channel.postMessage({ id: event.registration.id, bytes });
    channel.close();
  })());
});

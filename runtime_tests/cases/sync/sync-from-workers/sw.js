self.addEventListener("install", () => skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(clients.claim()));
self.addEventListener("message", (event) => {
  event.source.postMessage(`${event.data} ${event.source.type}`);
});
self.addEventListener("sync", (event) => {
  console.log(`sync ${event.tag}`);
});

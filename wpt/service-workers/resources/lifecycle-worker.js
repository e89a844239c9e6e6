// Records its lifecycle events and claims clients on activate.
const events = [];
self.addEventListener("install", (e) => {
  events.push("install");
  e.waitUntil(new Promise((resolve) => setTimeout(resolve, 50)));
});
self.addEventListener("activate", (e) => {
  events.push("activate");
  e.waitUntil(self.clients.claim());
});
self.addEventListener("message", (e) => {
  e.ports[0].postMessage({ events, scope: self.registration.scope });
});

// Install lasts until the page says go, so the page can unregister while
// this worker is still installing.
let release;
const go = new Promise((resolve) => { release = resolve; });
self.addEventListener("message", (event) => {
  if (event.data === "go") release();
});
self.addEventListener("install", (event) => event.waitUntil(go));
self.addEventListener("activate", (event) => {
  console.log("activated", self.registration.scope);
  event.waitUntil(clients.claim());
});
self.addEventListener("fetch", (event) => {
  event.respondWith(new Response("from the worker"));
});

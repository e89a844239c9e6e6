// An offline-first shell: the page script is cached at install and served
// to navigations from the cache; broken.js is refused; other navigations
// go to the network.
self.addEventListener("install", (event) => {
  event.waitUntil(caches.open("shell").then((cache) => cache.add("page.js")));
});
self.addEventListener("fetch", (event) => {
  if (event.request.mode !== "navigate") return;
  const path = new URL(event.request.url).pathname;
  console.log("sw: navigation", path, JSON.stringify(event.clientId), event.resultingClientId !== "");
  if (path === "/page.js") event.respondWith(caches.match(event.request.url));
  if (path === "/broken.js") event.respondWith(Promise.reject(new Error("no page for you")));
});

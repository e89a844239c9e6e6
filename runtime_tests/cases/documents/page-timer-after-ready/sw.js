self.addEventListener("activate", (event) => {
  event.waitUntil(caches.open("poll").then((cache) => cache.put("/greeting", new Response("hi"))));
});

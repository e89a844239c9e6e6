// Its router sends app/data.txt to the network; the fetch event answers the
// rest.
self.addEventListener("install", (e) => {
  e.waitUntil(e.addRoutes({ condition: { urlPattern: "app/data.txt" }, source: "network" }));
});
self.addEventListener("fetch", (e) => {
  if (e.request.mode === "navigate") {
    e.respondWith(new Response("<!doctype html><title>frame</title>", { headers: { "content-type": "text/html" } }));
  } else {
    e.respondWith(new Response("from the worker"));
  }
});

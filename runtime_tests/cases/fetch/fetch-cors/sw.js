// Answers the page's requests for /opaque with an opaque response of its own
// no-cors fetch; everything else goes to the network.
self.addEventListener("activate", (event) => event.waitUntil(clients.claim()));
self.addEventListener("fetch", (event) => {
  if (new URL(event.request.url).pathname === "/opaque") {
    event.respondWith(fetch("{{AUX}}/cors", { mode: "no-cors" }));
  }
});

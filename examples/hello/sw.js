// A small service worker: it caches nothing yet, but shows the lifecycle,
// importScripts, fetch() against its own origin, and waitUntil.
importScripts("greeting.js");

self.addEventListener("install", (event) => {
  console.log(`[install] ${greeting()} from ${location.href}`);
  event.waitUntil(
    fetch("episodes.json")
      .then((response) => response.json())
      .then((episodes) => {
        console.log(`[install] the origin lists ${episodes.length} episodes:`);
        for (const e of episodes) console.log(`  - ${e.title} (%d min)`, e.minutes);
      }),
  );
});

self.addEventListener("activate", (event) => {
  console.log("[activate] state is", registration.active.state);
  event.waitUntil(clients.claim().then(() => console.log("[activate] ready to serve", registration.scope)));
});

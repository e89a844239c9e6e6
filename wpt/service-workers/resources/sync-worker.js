// Tells every client of the origin which sync tag fired, and holds the
// event open until a client posts "release".
let release = null;
self.addEventListener("sync", (event) => {
  event.waitUntil((async () => {
    const held = new Promise((resolve) => {
      release = resolve;
    });
    for (const client of await clients.matchAll({ includeUncontrolled: true, type: "all" })) {
      client.postMessage(`sync ${event.tag} lastChance ${event.lastChance}`);
    }
    await held;
  })());
});
self.addEventListener("message", (event) => {
  if (event.data === "release" && release !== null) release();
});

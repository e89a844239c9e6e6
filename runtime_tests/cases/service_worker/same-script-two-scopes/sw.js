// One script registered for two scopes: each registration's worker acts
// for itself (claim, matchAll and client messages name the worker, not its URL).
self.addEventListener("activate", (event) => event.waitUntil((async () => {
  if (self.registration.scope.endsWith("/other/")) {
    const controlled = await clients.matchAll();
    console.log("other scope controls", controlled.length, "client(s)");
    const all = await clients.matchAll({ includeUncontrolled: true });
    all[0].postMessage("hello from /other/");
  } else {
    await clients.claim();
    console.log("root scope claimed");
  }
})()));

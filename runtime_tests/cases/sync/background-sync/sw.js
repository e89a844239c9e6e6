// A Background Sync worker: "outbox" succeeds, "doomed" always fails and is
// retried until its last chance; a tag the worker registers itself fires
// in the same run.
self.addEventListener("activate", (event) => {
  const constructed = new SyncEvent("sync", { tag: "t" });
  console.log("constructed", constructed.tag, constructed.lastChance);
  try {
    new SyncEvent("sync", {});
  } catch (e) {
    console.log("without a tag:", e.name);
  }
  event.waitUntil(self.registration.sync.register("from-worker"));
});
self.addEventListener("sync", (event) => {
  console.log(`sync ${event.tag} lastChance ${event.lastChance} ${event instanceof SyncEvent}`);
  if (event.tag === "doomed") event.waitUntil(Promise.reject(new Error("still offline")));
});

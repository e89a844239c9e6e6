// Offline: the page registers syncs; none fires, and they outlive the run.
const early = await navigator.serviceWorker.register("sw.js");
try {
  // Background Sync "register": no active worker yet.
  await early.sync.register("too-early");
} catch (e) {
  console.log("before activation:", e.name);
}
const registration = await navigator.serviceWorker.ready;
// `ready` resolves once the worker is activating; its `activate` handler
// registers a tag of its own, which is there once it is activated.
const worker = registration.active;
if (worker.state !== "activated") {
  await new Promise((resolve) => {
    worker.addEventListener("statechange", () => {
      if (worker.state === "activated") resolve();
    });
  });
}
await registration.sync.register("outbox");
await registration.sync.register("doomed");
await registration.sync.register("outbox");
console.log("tags", JSON.stringify((await registration.sync.getTags()).sort()));
console.log("same manager", registration.sync === registration.sync, registration.sync instanceof SyncManager);
try {
  new SyncManager();
} catch (e) {
  console.log("constructor:", e.name);
}

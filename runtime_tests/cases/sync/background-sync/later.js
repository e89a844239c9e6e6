// After the online run: every registration fired and is gone.
const [registration] = await navigator.serviceWorker.getRegistrations();
console.log("tags after", JSON.stringify(await registration.sync.getTags()));
// SyncEvent is exposed in service workers only; SyncManager in windows too.
console.log("window globals", typeof SyncEvent, typeof SyncManager);

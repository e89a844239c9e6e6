// The page's own object for a fetch learns that the records are gone once
// the worker's event has ended.
const reg = await navigator.serviceWorker.register("sw.js");
await navigator.serviceWorker.ready;
navigator.serviceWorker.startMessages();
reg.active.postMessage("start");
const f = await reg.backgroundFetch.fetch("records-page", ["{{AUX}}/bytes/100"]);
await new Promise((resolve) => {
  if (f.result) resolve();
  f.addEventListener("progress", () => f.result && resolve());
});
// The records go when the worker's event has ended; wait for that.
while (true) {
  try {
    await f.matchAll();
    await new Promise((resolve) => setTimeout(resolve, 10));
  } catch (e) {
    console.log("page: matchAll", e.name);
    break;
  }
}
console.log("page: recordsAvailable", f.recordsAvailable);
const checked = new Promise((resolve) => navigator.serviceWorker.addEventListener("message", resolve, { once: true }));
reg.active.postMessage("check");
await checked;

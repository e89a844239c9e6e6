const reg = await navigator.serviceWorker.register("sw.js");
await navigator.serviceWorker.ready;
const f = await reg.backgroundFetch.fetch("matching", [
  "{{AUX}}/bytes/10?v=1",
  "{{AUX}}/bytes/10?v=2",
  new Request("{{AUX}}/echo", { method: "PUT", body: "x" }),
  "{{AUX}}/bytes/20",
  "{{AUX}}/bytes/20",
]);
await new Promise((resolve) => f.addEventListener("progress", () => f.result && resolve()));
// Give the worker's success event time to end, then ask it to try again.
await new Promise((r) => setTimeout(r, 500));
reg.active.postMessage("again");

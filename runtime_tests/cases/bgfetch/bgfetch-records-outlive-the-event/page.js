// Records a worker took during its success event stay readable after the
// event ended (match and matchAll then reject): their request and response
// are made when first used, which may come later.
const reg = await navigator.serviceWorker.register("sw.js");
await navigator.serviceWorker.ready;
navigator.serviceWorker.startMessages();
const body = new Uint8Array(300000).map((_, i) => i % 251);
const f = await reg.backgroundFetch.fetch("outlive", [
  new Request("{{AUX}}/echo", { method: "POST", body }),
  "{{AUX}}/bytes/100000",
]);
await new Promise((resolve) => {
  if (f.result) resolve();
  f.addEventListener("progress", () => f.result && resolve());
});
// The event has ended once the records are gone.
for (;;) {
  try {
    await f.matchAll();
    await new Promise((resolve) => setTimeout(resolve, 10));
  } catch (e) {
    console.log("page: matchAll after the event", e.name);
    break;
  }
}
const checked = new Promise((resolve) => navigator.serviceWorker.addEventListener("message", resolve, { once: true }));
reg.active.postMessage("check");
await checked;

const reg = await navigator.serviceWorker.register("sw.js");
await navigator.serviceWorker.ready;
const f = await reg.backgroundFetch.fetch("ui", "{{AUX}}/bytes/1000", { title: "Start" });
await new Promise((resolve) => f.addEventListener("progress", () => f.result && resolve()));
await new Promise((r) => setTimeout(r, 500));
reg.active.postMessage("late");

const reg = await navigator.serviceWorker.register("sw.js");
await navigator.serviceWorker.ready;
const f = await reg.backgroundFetch.fetch("with-404", ["{{AUX}}/bytes/3000", "{{AUX}}/status/404"]);
await new Promise((resolve) => f.addEventListener("progress", () => f.result && resolve()));
console.log("page:", f.result, f.failureReason);

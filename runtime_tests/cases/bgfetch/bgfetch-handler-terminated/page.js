// Starts one small fetch and waits for its result.
const reg = await navigator.serviceWorker.register("sw.js");
await navigator.serviceWorker.ready;
const bgFetch = await reg.backgroundFetch.fetch("spin", ["{{AUX}}/bytes/1000"]);
await new Promise((resolve) => {
  bgFetch.addEventListener("progress", () => {
    if (bgFetch.result !== "") resolve();
  });
});

const reg = await navigator.serviceWorker.register("sw.js");
await navigator.serviceWorker.ready;
const f = await reg.backgroundFetch.fetch("big-one", ["{{AUX}}/bytes/100", "{{AUX}}/bytes/50000000?delay_ms=20"]);
const first = await new Promise((resolve) => {
  f.onprogress = async () => {
    if (f.downloaded > 100 && f.result === "") {
      f.onprogress = null;
      resolve(await f.abort());
    }
  };
});
console.log("page: abort() while active", first);
console.log("page: abort() again", await f.abort());
console.log("page: get after abort", await reg.backgroundFetch.get("big-one"));

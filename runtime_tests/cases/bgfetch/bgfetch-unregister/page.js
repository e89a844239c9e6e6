// Unregistering a registration stops its background fetches without an
// event, and a registration made later for the same scope inherits none.
const reg = await navigator.serviceWorker.register("sw.js");
await navigator.serviceWorker.ready;
const fetch = await reg.backgroundFetch.fetch("long-one", ["{{AUX}}/bytes/50000000?delay_ms=20"]);
await new Promise((resolve) => {
  fetch.onprogress = () => {
    if (fetch.downloaded > 0) {
      fetch.onprogress = null;
      resolve();
    }
  };
});
console.log("page: downloading", fetch.result === "");
console.log("page: unregistered", await reg.unregister());
const again = await navigator.serviceWorker.register("sw.js");
console.log("page: new registration", again !== reg);
console.log("page: ids after unregister", JSON.stringify(await again.backgroundFetch.getIds()));
console.log("page: get after unregister", await again.backgroundFetch.get("long-one"));

// A registration object obtained with get() after the fetch has already
// made progress starts from the fetch's latest state and follows it from
// there: it gets the later progress events, up to the result.
const fromWorker = new Promise((resolve) => {
  navigator.serviceWorker.onmessage = (event) => resolve(event.data);
});
const reg = await navigator.serviceWorker.register("sw.js");
await navigator.serviceWorker.ready;
const early = await reg.backgroundFetch.fetch("slow", ["{{AUX}}/bytes/2000000?delay_ms=20"]);
await new Promise((resolve) => {
  early.onprogress = () => {
    if (early.downloaded > 0) {
      early.onprogress = null;
      resolve();
    }
  };
});
const seen = early.downloaded;
console.log("page: early object saw progress", seen > 0);
const late = await reg.backgroundFetch.get("slow");
console.log("page: late object starts from the latest state", late.downloaded >= seen);
const startedAt = late.downloaded;
let laterEvent = false;
await new Promise((resolve) => {
  late.onprogress = () => {
    if (late.downloaded > startedAt) laterEvent = true;
    if (late.result !== "") resolve();
  };
});
console.log("page: late object got a later progress event", laterEvent);
console.log("page: late object settled", late.result, late.downloaded);
console.log(await fromWorker);

// A page registers its worker, watches it activate, claims and messaging.
console.log("page at", location.href, "controller", navigator.serviceWorker.controller);
const reg = await navigator.serviceWorker.register("sw.js");
console.log("registered", reg.scope, reg.installing && reg.installing.state);
const worker = reg.installing;
const activated = new Promise((resolve) => {
  worker.addEventListener("statechange", () => {
    console.log("page sees", worker.state);
    if (worker.state === "activated") resolve();
  });
});
const controlled = new Promise((r) => navigator.serviceWorker.addEventListener("controllerchange", r));
await activated;
await controlled;
console.log("controlled by", navigator.serviceWorker.controller.scriptURL, (await navigator.serviceWorker.ready) === reg);
const reply = new Promise((resolve) => {
  navigator.serviceWorker.onmessage = (e) => resolve(e);
});
reg.active.postMessage({ hello: [1, 2] });
const e = await reply;
console.log("page got", JSON.stringify(e.data), e.source === reg.active);

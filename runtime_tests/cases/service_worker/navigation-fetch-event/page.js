// v1, as the worker cached it.
if (navigator.serviceWorker.controller) {
  console.log("page v1 (controlled): served from the worker's cache");
} else {
  await navigator.serviceWorker.register("sw.js");
  await navigator.serviceWorker.ready;
  console.log("page v1 from the network: registered");
}

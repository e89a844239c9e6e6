// Workers created by a controlled page are clients of the service worker:
// their fetch() goes through it and clients.matchAll() lists them.
await navigator.serviceWorker.register("sw.js");
await navigator.serviceWorker.ready;
const shared = new SharedWorker("shared.js");
shared.port.postMessage("ping");
console.log("shared worker:", await new Promise((resolve) => {
  shared.port.onmessage = (e) => resolve(e.data);
}));
shared.port.close();
const worker = new Worker("worker.js");
console.log("worker:", await new Promise((resolve) => {
  worker.onmessage = (e) => resolve(e.data);
}));
const direct = await fetch("data.txt");
console.log("page:", await direct.text());

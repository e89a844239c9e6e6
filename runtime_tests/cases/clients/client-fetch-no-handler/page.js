await navigator.serviceWorker.register("sw.js");
await new Promise((r) => navigator.serviceWorker.addEventListener("controllerchange", r));
const response = await fetch("{{AUX}}/bytes/9");
console.log("network:", response.status, (await response.arrayBuffer()).byteLength);
const reply = new Promise((resolve) => { navigator.serviceWorker.onmessage = (e) => resolve(e.data); });
navigator.serviceWorker.controller.postMessage("count?");
console.log(await reply);

// A page hands its worker a MessagePort and talks over it (what
// testharness.js's fetch_tests_from_worker does).
const reg = await navigator.serviceWorker.register("sw.js");
await navigator.serviceWorker.ready;
const channel = new MessageChannel();
const answer = new Promise((resolve) => {
  channel.port1.onmessage = (e) => resolve(e.data);
});
reg.active.postMessage({ type: "connect" }, [channel.port2]);
console.log("page got over the port:", JSON.stringify(await answer));
channel.port1.close();

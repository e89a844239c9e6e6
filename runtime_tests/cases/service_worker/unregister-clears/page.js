// Service Workers "Unregister" and "Clear Registration", seen from a page.
// Resolves with the worker's state once it is `until` or redundant.
const stateOf = (worker, until = "activated") => new Promise((resolve) => {
  const done = () => worker.state === until || worker.state === "redundant";
  if (done()) return resolve(worker.state);
  worker.addEventListener("statechange", function on() {
    if (done()) {
      worker.removeEventListener("statechange", on);
      resolve(worker.state);
    }
  });
});

// 1. Unregistered while installing: install finishes, the worker never
// activates, it becomes redundant and the registration object empties.
const first = await navigator.serviceWorker.register("sw.js", { scope: "./during-install/" });
const installing = first.installing;
console.log("installing:", installing.state);
console.log("unregistered:", await first.unregister());
console.log("getRegistration after unregister:",
  await navigator.serviceWorker.getRegistration("./during-install/"));
installing.postMessage("go");
console.log("installing worker ends:", await stateOf(installing));
console.log("registration empties:", first.installing, first.waiting, first.active);

// 2. Unregistered when active, no client uses it: the active worker becomes
// redundant; registering the scope again gives a new registration.
const second = await navigator.serviceWorker.register("sw.js", { scope: "./idle/" });
second.installing.postMessage("go");
const active = second.installing;
console.log("second worker:", await stateOf(active));
console.log("unregistered:", await second.unregister());
console.log("active worker ends:", await stateOf(active, "redundant"), "active is", second.active);
const again = await navigator.serviceWorker.register("sw.js", { scope: "./idle/" });
console.log("new registration object:", again !== second);
again.installing.postMessage("go");
console.log("re-registered worker:", await stateOf(again.installing));
console.log("old registration stays empty:", second.active);

// 3. Unregister does not affect an existing controller: this page is in the
// root scope, so its worker keeps answering its fetches.
const root = await navigator.serviceWorker.register("sw.js", { scope: "./" });
const rootWorker = root.installing;
rootWorker.postMessage("go");
if (!navigator.serviceWorker.controller) {
  await new Promise((resolve) =>
    navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
}
console.log("controlled:", navigator.serviceWorker.controller !== null, await stateOf(rootWorker));
console.log("unregistered:", await root.unregister());
console.log("still controlled:", navigator.serviceWorker.controller !== null);
console.log("fetch after unregister:", await (await fetch("anything")).text());
console.log("root active stays:", root.active && root.active.state);

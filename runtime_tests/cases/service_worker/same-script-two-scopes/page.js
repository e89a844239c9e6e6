const root = await navigator.serviceWorker.register("sw.js", { scope: "./" });
if (!navigator.serviceWorker.controller) {
  await new Promise((resolve) => navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
}
const message = new Promise((resolve) => {
  navigator.serviceWorker.onmessage = (e) => resolve(e);
});
const other = await navigator.serviceWorker.register("sw.js", { scope: "./other/" });
const e = await message;
console.log(`page got "${e.data}" from the /other/ worker: ${e.source === other.active || e.source === other.installing || e.source === other.waiting}, not the root one: ${e.source !== root.active}`);

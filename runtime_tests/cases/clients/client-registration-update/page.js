// registration.update(): an unchanged script installs nothing; registrations
// of other scopes are independent; a missing script rejects register().
const reg = await navigator.serviceWorker.register("sw.js");
await navigator.serviceWorker.ready;
const first = reg.active;
await reg.update();
console.log("unchanged:", reg.active === first, reg.installing, reg.waiting);
const reg2 = await navigator.serviceWorker.register("counter-sw.js?v=1", { scope: "./two/" });
const worker2 = reg2.installing || reg2.waiting || reg2.active;
if (worker2.state !== "activated") {
  await new Promise((resolve) => worker2.addEventListener("statechange", () => worker2.state === "activated" && resolve()));
}
console.log("two active:", reg2.active !== null);
try {
  await navigator.serviceWorker.register("missing.js", { scope: "./three/" });
} catch (e) {
  console.log("register missing:", e.name);
}

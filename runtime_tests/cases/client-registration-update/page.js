// registration.update(): an unchanged script installs nothing; registrations
// of other scopes are independent; a missing script rejects register().
const reg = await navigator.serviceWorker.register("sw.js");
await navigator.serviceWorker.ready;
const first = reg.active;
await reg.update();
console.log("unchanged:", reg.active === first, reg.installing, reg.waiting);
const reg2 = await navigator.serviceWorker.register("counter-sw.js?v=1", { scope: "./two/" });
await new Promise((r) => setTimeout(r, 200));
console.log("two active:", reg2.active !== null);
try {
  await navigator.serviceWorker.register("missing.js", { scope: "./three/" });
} catch (e) {
  console.log("register missing:", e.name);
}

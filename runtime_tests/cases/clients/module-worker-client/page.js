// A page registers a module worker; the worker stops when idle and is
// started again (from its recorded imports) for the next message.
const reg = await navigator.serviceWorker.register("sw.mjs", { type: "module" });
await navigator.serviceWorker.ready;
const reply = () => new Promise((resolve) => {
  navigator.serviceWorker.onmessage = (e) => resolve(e.data);
});
let answer = reply();
reg.active.postMessage("one");
console.log("page got:", await answer);
// Well past the 0.2 s idle timeout, also on a loaded machine.
await new Promise((resolve) => setTimeout(resolve, 2000));
answer = reply();
reg.active.postMessage("two");
console.log("page got:", await answer);
try {
  await navigator.serviceWorker.register("sw.mjs", { type: "wasm" });
} catch (e) {
  console.log("bad type:", e.name);
}
// The same script as a classic worker is a different worker: it is fetched
// and evaluated again, and `import` does not parse in a classic script.
try {
  await navigator.serviceWorker.register("sw.mjs");
} catch (e) {
  console.log("as classic:", e.name);
}

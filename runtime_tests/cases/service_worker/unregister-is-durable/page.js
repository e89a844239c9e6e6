// unregister() is durable: a later run on the same data dir does not find
// the registration (the other one stays).
const kept = await navigator.serviceWorker.register("sw.js", { scope: "./kept/" });
const gone = await navigator.serviceWorker.register("sw.js", { scope: "./gone/" });
for (const reg of [kept, gone]) {
  while (!reg.active || reg.active.state !== "activated") await new Promise((r) => setTimeout(r, 20));
}
console.log("unregistered:", await gone.unregister());

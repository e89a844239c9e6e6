const reg = await navigator.serviceWorker.register("sw.js");
await new Promise((r) => navigator.serviceWorker.addEventListener("controllerchange", r));
console.log("controlled:", navigator.serviceWorker.controller !== null);
const cached = await fetch("/cached.txt");
console.log(cached.status, cached.headers.get("x-source"), await cached.text());
// Integrity applies to a response the worker supplies too.
const verified = await fetch("/cached.txt", { integrity: "sha256-NTiiUDDaAK0ZpkcTna8Ik3dDVhsDzItuzBWWrxdUsUU=" });
console.log("integrity match:", await verified.text());
try {
  await fetch("/cached.txt", { integrity: "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" });
  console.log("integrity mismatch: resolved");
} catch (e) {
  console.log("integrity mismatch:", e.name);
}
const made = await fetch("/made-up", { method: "POST", body: "x" });
console.log(made.status, await made.text());
try { await fetch("/broken"); } catch (e) { console.log("broken:", e.name); }
const echoed = await fetch("/echo-body", { method: "PUT", body: "payload" });
console.log(await echoed.text());
// A binary body reaches the worker byte for byte (4 MiB).
const big = new Uint8Array(4 << 20).map((_, i) => (i * 7) & 255);
const bigAnswer = await fetch("/checksum", { method: "POST", body: big });
console.log(await bigAnswer.text());
const network = await fetch("{{AUX}}/bytes/7");
console.log("network:", network.status, (await network.arrayBuffer()).byteLength);

// BroadcastChannel reaches the origin's worker; a CSP <meta> inserted by
// script governs the page's fetch() and its background fetches.
const reg = await navigator.serviceWorker.register("sw.js");
await navigator.serviceWorker.ready;
const channel = new BroadcastChannel("news");
const reply = new Promise((resolve) => { channel.onmessage = (e) => resolve(e.data); });
reg.active.postMessage("start");
console.log("page heard:", await reply);
channel.close();

console.log("before CSP:", (await fetch("{{AUX}}/bytes/5")).status);
const meta = document.createElement("meta");
meta.httpEquiv = "Content-Security-Policy";
meta.content = "connect-src 'self'";
document.head.appendChild(meta);
try { await fetch("{{AUX}}/bytes/5"); } catch (e) { console.log("after CSP:", e.name); }
const f = await reg.backgroundFetch.fetch("csp", "{{AUX}}/bytes/5");
await new Promise((resolve) => f.addEventListener("progress", () => f.result && resolve()));
console.log("background fetch under CSP:", f.result, f.failureReason);

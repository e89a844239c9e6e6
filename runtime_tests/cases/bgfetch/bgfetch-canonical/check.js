// A later run on the same data dir: the worker's cache kept both bodies.
const reg = await navigator.serviceWorker.getRegistration();
console.log("registration restored", reg !== undefined, reg.active.state);
const cache = await caches.open("downloads");
const keys = await cache.keys();
console.log("cached", keys.length, keys.map((r) => new URL(r.url).pathname).sort().join(" "));
const episode = await caches.match("{{AUX}}/bytes/600000?delay_ms=5");
const bytes = new Uint8Array(await episode.arrayBuffer());
let ok = bytes.length === 600000;
for (let i = 0; i < bytes.length && ok; i += 997) ok = bytes[i] === (i * 31 + 7) % 251;
console.log("episode bytes intact", ok);
console.log("ids after completion", JSON.stringify(await reg.backgroundFetch.getIds()), await reg.backgroundFetch.get("episode-5"));

// Online: the page registers the Workbox worker and uses every route.
const messages = [];
let wake = null;
navigator.serviceWorker.addEventListener("message", (event) => {
  messages.push(event.data);
  wake?.();
});
async function nextMessage() {
  while (messages.length === 0) await new Promise((resolve) => (wake = resolve));
  return messages.shift();
}
const paths = (requests) => requests.map((r) => new URL(r.url).pathname + new URL(r.url).search);

await navigator.serviceWorker.register("/sw.js");
await navigator.serviceWorker.ready;
if (!navigator.serviceWorker.controller) {
  await new Promise((resolve) => navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
}
console.log("controlled", navigator.serviceWorker.controller.scriptURL.endsWith("/sw.js"));

const precache = (await caches.keys()).filter((name) => name.startsWith("workbox-precache-v2-"));
console.log("precache", precache.length, JSON.stringify(paths(await (await caches.open(precache[0])).keys())));
console.log("app.css", (await (await fetch("/app.css")).text()).trim());

const api = await fetch("/api/data.json");
console.log("network first", api.status, JSON.stringify(await api.json()));
console.log(await nextMessage());
console.log("api cache", JSON.stringify(paths(await (await caches.open("api")).keys())));

const lib = await fetch("/static/lib.js");
console.log("stale while revalidate", (await lib.text()).trim());
console.log(await nextMessage());
const libAgain = await fetch("/static/lib.js");
console.log("stale while revalidate from cache", (await libAgain.text()).trim());
console.log(await nextMessage());

for (const n of [1, 2, 3, 1]) {
  const image = await fetch(`/images/${n}.txt`);
  console.log("cache first", (await image.text()).trim());
  console.log(await nextMessage());
}
console.log("images cache", JSON.stringify(paths(await (await caches.open("images")).keys())));
const again = await fetch("/images/3.txt");
console.log("cache first hit", (await again.text()).trim());
console.log("images cache", JSON.stringify(paths(await (await caches.open("images")).keys())));

// The podcast page: registers the worker, then for each episode either plays
// it from the cache (an earlier run downloaded it), follows a download that
// is still running (an earlier run was interrupted), or starts a background
// fetch with a title, an icon and the expected size.
const CACHE = "podcast-episodes";
const reg = await navigator.serviceWorker.register("/sw.js");
await navigator.serviceWorker.ready;
const episodes = await (await fetch("/episodes.json")).json();
const cache = await caches.open(CACHE);

// Reads a cached episode as a player would (streaming) and checks its bytes
// against the generator's pattern: (offset * 31 + seed * 7 + 7) % 251.
async function verify(response, ep) {
  const reader = response.body.getReader();
  let offset = 0;
  let ok = true;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    for (let i = (4099 - (offset % 4099)) % 4099; i < value.length; i += 4099) {
      if (value[i] !== ((offset + i) * 31 + ep.seed * 7 + 7) % 251) ok = false;
    }
    offset += value.length;
  }
  return { bytes: offset, ok: ok && offset === ep.size };
}

const MiB = 1024 * 1024;
for (const ep of episodes) {
  const cached = await cache.match(ep.url);
  if (cached) {
    const { bytes, ok } = await verify(cached, ep);
    console.log(`page: ${ep.title}: answered from the cache (${(bytes / MiB).toFixed(1)} MiB ${cached.headers.get("content-type")}, ${ok ? "bytes verified" : "BYTES DIFFER"})`);
    continue;
  }
  const running = await reg.backgroundFetch.get(ep.id);
  if (running) {
    console.log(`page: ${ep.title}: resuming, ${(running.downloaded / MiB).toFixed(1)} of ${(running.downloadTotal / MiB).toFixed(1)} MiB already stored`);
    continue;
  }
  await reg.backgroundFetch.fetch(ep.id, [ep.url], {
    title: ep.title,
    icons: [{ src: "/artwork.png", sizes: "64x64", type: "image/png" }],
    downloadTotal: ep.size,
  });
  console.log(`page: ${ep.title}: background fetch started`);
}

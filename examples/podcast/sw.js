// The podcast app's service worker, as it would be written for Chrome.
// `swrt demo` serves it next to page.js; any origin can serve it unchanged.
const CACHE = "podcast-episodes";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(clients.claim()));

async function episode(id) {
  const episodes = await (await fetch("/episodes.json")).json();
  return episodes.find((e) => e.id === id);
}

// Every record of a finished fetch goes into the cache, where the page
// finds it offline; the notification then says the episode is ready.
self.addEventListener("backgroundfetchsuccess", (event) => {
  const bgFetch = event.registration;
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    const records = await bgFetch.matchAll();
    await Promise.all(records.map(async (record) => {
      await cache.put(record.request, await record.responseReady);
    }));
    const ep = await episode(bgFetch.id);
    await event.updateUI({ title: `${ep ? ep.title : bgFetch.id} - ready to listen` });
    console.log(`sw: ${bgFetch.id}: ${records.length} record(s), ${bgFetch.downloaded} bytes copied into cache "${CACHE}"`);
  })());
});

self.addEventListener("backgroundfetchfail", (event) => {
  const bgFetch = event.registration;
  event.waitUntil((async () => {
    const ep = await episode(bgFetch.id);
    await event.updateUI({ title: `${ep ? ep.title : bgFetch.id} - download failed` });
    console.log(`sw: ${bgFetch.id} failed: ${bgFetch.failureReason}`);
  })());
});

self.addEventListener("backgroundfetchabort", (event) => {
  console.log(`sw: ${event.registration.id} was cancelled`);
});

// The user activated the download's notification: show the episode.
self.addEventListener("backgroundfetchclick", (event) => {
  event.waitUntil(clients.openWindow(`/episodes/${event.registration.id}`));
});

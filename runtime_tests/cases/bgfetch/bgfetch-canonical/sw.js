// The canonical Background Fetch worker, as written for Chrome: copy every
// record into a cache, update the UI, open a window on click.
self.addEventListener("backgroundfetchsuccess", (event) => {
  const bgFetch = event.registration;
  event.waitUntil((async () => {
    const cache = await caches.open("downloads");
    const records = await bgFetch.matchAll();
    const promises = records.map(async (record) => {
      const response = await record.responseReady;
      await cache.put(record.request, response);
    });
    await Promise.all(promises);
    await event.updateUI({ title: "Episode 5 ready to listen!" });
    console.log("sw: stored", records.length, "records of", bgFetch.id, "result", bgFetch.result);
  })());
});

self.addEventListener("backgroundfetchfail", (event) => {
  console.log("sw: unexpected failure", event.registration.failureReason);
});

self.addEventListener("backgroundfetchclick", (event) => {
  event.waitUntil(clients.openWindow("/podcasts/episode-5"));
});

// A worker written the way Chrome's Background Fetch articles write one:
// relative URLs, a precache at install, records copied into a cache.
addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open("static");
    await cache.addAll(["/page.js", "artwork.svg"]);
    console.log("sw: precached", (await cache.keys()).length);
  })());
});

addEventListener("backgroundfetchsuccess", (event) => {
  const bgFetch = event.registration;
  event.waitUntil(async function () {
    const cache = await caches.open("downloads");
    const records = await bgFetch.matchAll();
    const promises = records.map(async (record) => {
      const response = await record.responseReady;
      await cache.put(record.request, response);
    });
    await Promise.all(promises);
    await event.updateUI({ title: "Episode 5 ready to listen!" });
    const episode = await cache.match("/episode.txt");
    console.log("sw: cached", (await episode.text()).length, "bytes of /episode.txt");
  }());
});

addEventListener("backgroundfetchfail", (event) => {
  console.log("sw: failed", event.registration.failureReason);
});

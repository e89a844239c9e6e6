// A worker may start a fetch itself (swrt's default); with
// --no-worker-background-fetch it gets Chromium's NotAllowedError.
self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    try {
      const f = await registration.backgroundFetch.fetch("from-worker", "{{AUX}}/bytes/2000");
      console.log("worker fetch started", f.id);
    } catch (e) {
      console.log("worker fetch:", e.name, e.message);
    }
  })());
});
self.addEventListener("backgroundfetchsuccess", (event) => console.log("success for", event.registration.id));

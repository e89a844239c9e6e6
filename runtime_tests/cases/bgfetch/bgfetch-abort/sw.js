// abort() from the page: backgroundfetchabort; completed records stay
// readable, incomplete ones reject responseReady with AbortError.
self.addEventListener("backgroundfetchabort", (event) => {
  const reg = event.registration;
  event.waitUntil((async () => {
    console.log("sw: abort event", reg.result, reg.failureReason, event instanceof BackgroundFetchEvent, "updateUI" in event);
    const records = await reg.matchAll();
    for (const record of records) {
      try {
        const response = await record.responseReady;
        console.log("sw: readable", new URL(record.request.url).pathname, (await response.arrayBuffer()).byteLength);
      } catch (err) {
        console.log("sw: rejected", new URL(record.request.url).pathname, err.name);
      }
    }
  })());
});

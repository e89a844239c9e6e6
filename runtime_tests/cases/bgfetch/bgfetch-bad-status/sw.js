// A 404 among the requests fails the fetch with bad-status; its response is kept.
self.addEventListener("backgroundfetchfail", (event) => {
  const reg = event.registration;
  event.waitUntil((async () => {
    console.log("sw: fail", reg.result, reg.failureReason);
    const records = await reg.matchAll();
    for (const record of records.sort((a, b) => a.request.url.localeCompare(b.request.url))) {
      const response = await record.responseReady;
      console.log("sw: record", new URL(record.request.url).pathname, response.status, (await response.text()).length);
    }
  })());
});

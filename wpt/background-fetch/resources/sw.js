// Reports Background Fetch events to the pages of the origin.
async function report(event) {
  const registration = event.registration;
  const records = event.type === "backgroundfetchabort" ? [] : await registration.matchAll();
  const bodies = await Promise.all(records.map(async (r) => (await r.responseReady).text()));
  const all = await self.clients.matchAll({ includeUncontrolled: true });
  for (const client of all) {
    client.postMessage({
      type: event.type,
      id: registration.id,
      result: registration.result,
      failureReason: registration.failureReason,
      bodies,
    });
  }
}
for (const type of ["backgroundfetchsuccess", "backgroundfetchfail", "backgroundfetchabort"]) {
  self.addEventListener(type, (event) => event.waitUntil(report(event)));
}

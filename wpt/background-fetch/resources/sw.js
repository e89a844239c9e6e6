// Reports Background Fetch events to the pages of the origin: per record
// its response (status, body) or the error responseReady rejected with.
async function describe(record) {
  try {
    const response = await record.responseReady;
    return { url: record.request.url, status: response.status, body: await response.text(), error: null };
  } catch (e) {
    return { url: record.request.url, status: null, body: null, error: e.name };
  }
}

async function report(event) {
  const registration = event.registration;
  const records = event.type === "backgroundfetchabort" ? [] : await registration.matchAll();
  const described = await Promise.all(records.map(describe));
  const all = await self.clients.matchAll({ includeUncontrolled: true });
  for (const client of all) {
    client.postMessage({
      type: event.type,
      id: registration.id,
      result: registration.result,
      failureReason: registration.failureReason,
      downloaded: registration.downloaded,
      bodies: described.map((r) => r.body),
      records: described,
    });
  }
}
for (const type of ["backgroundfetchsuccess", "backgroundfetchfail", "backgroundfetchabort"]) {
  self.addEventListener(type, (event) => event.waitUntil(report(event)));
}

// match()/matchAll() follow the Cache API's matching rules.
let successEnded;
const ended = new Promise((resolve) => { successEnded = resolve; });
self.addEventListener("backgroundfetchsuccess", (event) => {
  const reg = event.registration;
  event.waitUntil((async () => {
    const path = (r) => r ? new URL(r.request.url).pathname + new URL(r.request.url).search : "none";
    console.log("all", (await reg.matchAll()).length);
    console.log("exact", path(await reg.match("{{AUX}}/bytes/10?v=1")));
    console.log("other search", path(await reg.match("{{AUX}}/bytes/10?v=3")));
    console.log("ignoreSearch", (await reg.matchAll("{{AUX}}/bytes/10", { ignoreSearch: true })).length);
    console.log("PUT without ignoreMethod", (await reg.matchAll(new Request("{{AUX}}/echo", { method: "PUT" }))).length);
    console.log("PUT with ignoreMethod", (await reg.matchAll(new Request("{{AUX}}/echo", { method: "PUT" }), { ignoreMethod: true })).length);
    console.log("duplicates are separate records", (await reg.matchAll("{{AUX}}/bytes/20")).length);
    const record = await reg.match("{{AUX}}/bytes/10?v=2");
    console.log("same object twice", record.responseReady === record.responseReady, record.request === record.request);
    self.savedRegistration = reg;
  })().finally(() => setTimeout(successEnded, 0)));
});
// The message's own lifetime covers the late call, so the run waits for it.
self.addEventListener("message", (e) => e.waitUntil((async () => {
  await ended;
  try {
    await self.savedRegistration.matchAll();
  } catch (err) {
    console.log("after the event:", err.name, self.savedRegistration.recordsAvailable);
  }
})()));

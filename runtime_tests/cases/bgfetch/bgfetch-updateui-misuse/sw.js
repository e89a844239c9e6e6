// updateUI() works once per event, only while the event is active and trusted.
let saved;
let successEnded;
const ended = new Promise((resolve) => { successEnded = resolve; });
self.addEventListener("backgroundfetchsuccess", (event) => {
  saved = event;
  event.waitUntil((async () => {
    await event.updateUI({ title: "Done!", icons: [{ src: "/icon.png", sizes: "64x64", type: "image/png" }] });
    console.log("first updateUI ok");
    try { await event.updateUI({ title: "Again" }); } catch (e) { console.log("second updateUI:", e.name); }
    try {
      const synthetic = new BackgroundFetchUpdateUIEvent("backgroundfetchsuccess", { registration: event.registration });
      await synthetic.updateUI({ title: "x" });
    } catch (e) { console.log("untrusted updateUI:", e.name); }
    try { new BackgroundFetchUpdateUIEvent("x", {}); } catch (e) { console.log("missing registration:", e.name); }
    try { new BackgroundFetchEvent("x"); } catch (e) { console.log("missing init:", e.name); }
  })().finally(() => setTimeout(successEnded, 0)));
});
// The message's own lifetime covers the late call, so the run waits for it.
self.addEventListener("message", (e) => e.waitUntil((async () => {
  await ended;
  try { await saved.updateUI({ title: "late" }); } catch (err) { console.log("after the event:", err.name); }
})()));

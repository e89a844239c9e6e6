// recordsAvailable ends with the success event's lifetime, for every object
// that represents the registration in this realm.
let started = null; // fetch() of "records" in this worker: a registration object
let fromEvent = null; // the success event's registration object

self.addEventListener("message", (event) => {
  if (event.data !== "start") return;
  started = registration.backgroundFetch.fetch("records", ["{{AUX}}/bytes/100"]);
  event.waitUntil(started);
});

self.addEventListener("backgroundfetchsuccess", (event) => {
  if (event.registration.id === "records") {
    fromEvent = event.registration;
    console.log("sw: during the event", fromEvent.recordsAvailable);
  }
  event.waitUntil((async () => {
    const records = await event.registration.matchAll();
    if (event.registration.id === "records") console.log("sw: records during the event", records.length);
  })());
});

self.addEventListener("message", (event) => {
  if (event.data !== "check") return;
  event.waitUntil((async () => {
    const fetched = await started;
    // Wait until this fetch's records are gone (its event has ended).
    while (true) {
      try {
        await fetched.matchAll();
        await new Promise((resolve) => setTimeout(resolve, 10));
      } catch (e) {
        break;
      }
    }
    console.log("sw: after the event", fromEvent.recordsAvailable, fetched.recordsAvailable);
    for (const [name, r] of [["event", fromEvent], ["fetch", fetched]]) {
      try {
        await r.match("{{AUX}}/bytes/100");
        console.log("sw:", name, "match resolved");
      } catch (e) {
        console.log("sw:", name, "match", e.name);
      }
    }
    event.source.postMessage("checked");
  })());
});

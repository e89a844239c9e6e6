// recordsAvailable ends with the success event's lifetime, for every object
// that represents the registration, here and in the page.
let started = null; // the registration object fetch() returned in this worker
let fromEvent = null;

self.addEventListener("message", (event) => {
  if (event.data !== "start") return;
  event.waitUntil((async () => {
    started = await registration.backgroundFetch.fetch("records", ["{{AUX}}/bytes/100"]);
  })());
});

self.addEventListener("backgroundfetchsuccess", (event) => {
  fromEvent = event.registration;
  console.log("sw: during the event", fromEvent.recordsAvailable, started.recordsAvailable);
  event.waitUntil((async () => {
    const records = await started.matchAll();
    console.log("sw: records during the event", records.length);
  })());
});

self.addEventListener("message", (event) => {
  if (event.data !== "check") return;
  event.waitUntil((async () => {
    console.log("sw: after the event", fromEvent.recordsAvailable, started.recordsAvailable);
    for (const [name, r] of [["event", fromEvent], ["fetch", started]]) {
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

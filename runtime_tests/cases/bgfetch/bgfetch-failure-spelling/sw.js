// Worker code that spells the event "backgroundfetchfailure" still hears it.
self.addEventListener("backgroundfetchfailure", (event) => {
  console.log("heard", event.type, event.registration.failureReason);
});
self.addEventListener("activate", (event) => {
  event.waitUntil(registration.backgroundFetch.fetch("broken", "{{AUX}}/status/500"));
});

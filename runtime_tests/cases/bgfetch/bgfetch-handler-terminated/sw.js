// A success handler that never yields is terminated at the event time
// budget. The event then ended, as in Chromium: it is not run again.
self.addEventListener("backgroundfetchsuccess", () => {
  console.log("sw: success handler spinning");
  for (;;) {}
});

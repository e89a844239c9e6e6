// A handler that never yields is terminated at the event time budget.
self.addEventListener("install", () => {
  console.log("spinning");
  for (;;) {}
});

// An uncaught error is reported with its location; the run exits 1.
self.addEventListener("activate", () => {
  setTimeout(() => {
    console.log("timer ran");
  }, 0);
  undefinedFunction();
});

// Trivial service worker for the startup benchmark (bench/run.sh):
// `swrt run bench/trivial-sw.js` exits once activate has been handled.
self.addEventListener("install", (event) => {
  event.waitUntil(Promise.resolve());
});
self.addEventListener("activate", () => {
  console.log("activated");
});

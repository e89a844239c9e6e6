// A page that keeps working after the worker is ready: the run must wait
// for its timers and requests, and end once nothing is left.
navigator.serviceWorker.register("sw.js");
navigator.serviceWorker.ready.then(async (registration) => {
  console.log("page: ready, active worker", registration.active.state === "activating" || registration.active.state === "activated");
  await new Promise((resolve) => setTimeout(resolve, 300));
  const cache = await caches.open("poll");
  console.log("page: after 300 ms the worker cached", (await cache.keys()).length, "request(s)");
  setTimeout(() => console.log("page: a timer set from a timer"), 50);
});
// Listening alone does not keep the run alive.
navigator.serviceWorker.addEventListener("message", () => {});

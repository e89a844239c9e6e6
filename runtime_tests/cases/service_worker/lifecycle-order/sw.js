// The lifecycle runs in order and each state is visible on the registration.
console.log("evaluate", registration.installing, registration.active);
console.log("scope", registration.scope === new URL("./", location.href).href);
self.addEventListener("install", (event) => {
  const worker = registration.installing;
  console.log("install", event instanceof ExtendableEvent, worker.state, worker === serviceWorker);
  worker.addEventListener("statechange", () => console.log("statechange", worker.state));
});
self.onactivate = (event) => {
  console.log("activate", registration.active.state, registration.installing, registration.waiting);
  event.waitUntil(Promise.resolve().then(() => console.log("activate waitUntil")));
};

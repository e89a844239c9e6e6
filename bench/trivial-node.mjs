// Node reference for the startup benchmark (bench/run.sh): the same work as
// bench/trivial-sw.js under `swrt run`. Node has no service-worker host, so
// this script plays the host itself: it defines the listeners on an
// EventTarget, dispatches install (waiting for its waitUntil promises, as an
// ExtendableEvent's lifetime requires) and then activate, and exits.

class ExtendableEvent extends Event {
  #pending = [];
  waitUntil(promise) {
    this.#pending.push(promise);
  }
  lifetime() {
    return Promise.all(this.#pending);
  }
}

const self = new EventTarget();

// The worker script.
self.addEventListener("install", (event) => {
  event.waitUntil(Promise.resolve());
});
self.addEventListener("activate", () => {
  console.log("activated");
});

// The host side: install, then activate.
for (const type of ["install", "activate"]) {
  const event = new ExtendableEvent(type);
  self.dispatchEvent(event);
  await event.lifetime();
}

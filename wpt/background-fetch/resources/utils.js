// Helpers for swrt's own Background Fetch tests, in the shape of upstream's
// background-fetch/resources/utils.js (written for swrt).
let nextBackgroundFetchId = 0;

function uniqueId() {
  return "swrt-bgfetch-" + nextBackgroundFetchId++;
}

// Registers resources/sw.js for a fresh scope, waits for it to activate and
// runs `func(t, backgroundFetch, registration)`.
function backgroundFetchTest(func, description) {
  promise_test(async (t) => {
    // A scope per test, named after it; an escaped "/" in a scope's path
    // would make register() reject (Start Register).
    const scope = `resources/scope/${nextBackgroundFetchId++}-${description.replace(/[^A-Za-z0-9]+/g, "-")}/`;
    const registration = await navigator.serviceWorker.register("resources/sw.js", { scope });
    const worker = registration.installing || registration.waiting || registration.active;
    if (worker.state !== "activated") {
      await new Promise((resolve) => worker.addEventListener("statechange", () => {
        if (worker.state === "activated") resolve();
      }));
    }
    assert_true("backgroundFetch" in registration, "registration.backgroundFetch exists");
    return func(t, registration.backgroundFetch, registration);
  }, description);
}

// Resolves with the next message the worker posts to this page.
function getMessageFromServiceWorker() {
  return new Promise((resolve) => {
    navigator.serviceWorker.startMessages();
    navigator.serviceWorker.addEventListener("message", (e) => resolve(e.data), { once: true });
  });
}

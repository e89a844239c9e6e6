// META: script=resources/test-helpers.js
// META: title=ExtendableEvent.waitUntil()

promise_test(async (t) => {
  const registration = await service_worker_unregister_and_register(
    t, "resources/extendable-worker.js", "resources/scope/extendable");
  const worker = registration.installing;
  let installedAt = 0;
  const started = Date.now();
  worker.addEventListener("statechange", () => {
    if (worker.state === "installed") installedAt = Date.now();
  });
  await wait_for_state(t, worker, "activated");
  assert_greater_than_equal(installedAt - started, 90, "install waited for its waitUntil promise");
  const seen = await post_and_wait(worker, "report");
  assert_true(seen.isExtendable, "install is an ExtendableEvent");
  assert_greater_than_equal(seen.installWaited, 90);
  assert_equals(seen.nestedWhileActive, "ok", "waitUntil() while the event is extended");
  assert_equals(seen.afterEnd, "InvalidStateError", "waitUntil() after the lifetime ended");
  assert_equals(seen.nonPromise, "ok", "a non-promise value is accepted");
}, "waitUntil extends install and throws InvalidStateError once the event has ended");

promise_test(async (t) => {
  const registration = await navigator.serviceWorker.register(
    "resources/install-rejects-worker.js", { scope: "resources/scope/rejects" });
  const worker = registration.installing;
  await new Promise((resolve) => {
    worker.addEventListener("statechange", () => { if (worker.state === "redundant") resolve(); });
  });
  assert_equals(worker.state, "redundant");
}, "a rejected install waitUntil makes the worker redundant");

// META: script=resources/test-helpers.js
// META: title=ServiceWorkerRegistration.unregister(): Unregister and Clear Registration

promise_test(async (t) => {
  const registration = await navigator.serviceWorker.register(
    "resources/empty-worker.js", { scope: "resources/scope/unregister-twice" });
  await wait_for_state(t, registration.installing, "activated");
  assert_true(await registration.unregister(), "the first unregister() finds it");
  assert_false(await registration.unregister(), "the second finds nothing");
  assert_equals(
    await navigator.serviceWorker.getRegistration("resources/scope/unregister-twice"), undefined);
}, "unregister() resolves true, then false");

promise_test(async (t) => {
  const registration = await navigator.serviceWorker.register(
    "resources/empty-worker.js", { scope: "resources/scope/unregister-active" });
  const worker = registration.installing;
  await wait_for_state(t, worker, "activated");
  await registration.unregister();
  // No client uses it: the registration is cleared.
  await wait_for_state(t, worker, "redundant");
  assert_equals(registration.active, null, "active empties");
  const again = await navigator.serviceWorker.register(
    "resources/empty-worker.js", { scope: "resources/scope/unregister-active" });
  t.add_cleanup(() => again.unregister());
  assert_not_equals(again, registration, "registering again makes a new registration");
  assert_equals(again.scope, registration.scope);
  await wait_for_state(t, again.installing, "activated");
  assert_equals(registration.active, null, "the old object stays empty");
}, "an unregistered registration's active worker becomes redundant");

promise_test(async (t) => {
  const registration = await navigator.serviceWorker.register(
    "resources/held-install-worker.js", { scope: "resources/scope/unregister-installing" });
  const worker = registration.installing;
  const states = [worker.state];
  worker.addEventListener("statechange", () => states.push(worker.state));
  assert_true(await registration.unregister());
  worker.postMessage("finish-install");
  await wait_for_state(t, worker, "redundant");
  assert_false(states.includes("activating"), `never activates (${states})`);
  assert_equals(registration.installing, null);
  assert_equals(registration.waiting, null);
  assert_equals(registration.active, null);
}, "a worker still installing when unregister() is called never activates");

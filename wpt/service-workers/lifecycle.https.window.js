// META: script=resources/test-helpers.js
// META: title=Service worker lifecycle: register, statechange, ready, controller, claim

promise_test(async (t) => {
  const registration = await service_worker_unregister_and_register(
    t, "resources/lifecycle-worker.js", "resources/scope/lifecycle");
  assert_true(registration instanceof ServiceWorkerRegistration, "a ServiceWorkerRegistration");
  assert_equals(registration.scope, new URL("resources/scope/lifecycle", location.href).href);
  const worker = registration.installing;
  assert_true(worker instanceof ServiceWorker, "installing is a ServiceWorker");
  assert_equals(worker.scriptURL, new URL("resources/lifecycle-worker.js", location.href).href);
  const states = [worker.state];
  worker.addEventListener("statechange", () => states.push(worker.state));
  await wait_for_state(t, worker, "activated");
  assert_array_equals(states, ["installing", "installed", "activating", "activated"]);
  assert_equals(registration.active, worker, "the same object becomes active");
  assert_equals(registration.installing, null);
  assert_equals(registration.waiting, null);
}, "register() moves a worker through installing, installed, activating and activated");

promise_test(async (t) => {
  const registration = await service_worker_unregister_and_register(
    t, "resources/lifecycle-worker.js", "resources/scope/ready");
  await wait_for_state(t, registration.installing || registration.waiting || registration.active, "activated");
  const reply = await post_and_wait(registration.active, "events?");
  assert_array_equals(reply.events, ["install", "activate"]);
  assert_equals(reply.scope, registration.scope);
}, "install and activate run once each, in order");

promise_test(async (t) => {
  // This page is in the worker's scope, so it becomes ready and controlled.
  const registration = await service_worker_unregister_and_register(
    t, "lifecycle-claim-worker.js", "./");
  const ready = await navigator.serviceWorker.ready;
  assert_equals(ready.scope, registration.scope, "ready resolves with the registration");
  assert_true(ready.active !== null, "ready's registration has an active worker");
  if (!navigator.serviceWorker.controller) {
    await new Promise((resolve) =>
      navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
  }
  assert_equals(navigator.serviceWorker.controller.scriptURL, registration.active.scriptURL,
                "clients.claim() made the worker this page's controller");
}, "ready and clients.claim() give the page a controller");

promise_test(async (t) => {
  const registration = await service_worker_unregister_and_register(
    t, "resources/empty-worker.js", "resources/scope/get");
  const found = await navigator.serviceWorker.getRegistration("resources/scope/get/page.html");
  assert_equals(found && found.scope, registration.scope);
  const all = await navigator.serviceWorker.getRegistrations();
  assert_true(all.some((r) => r.scope === registration.scope), "getRegistrations() lists it");
  assert_equals(await navigator.serviceWorker.getRegistration("/elsewhere/"), undefined);
}, "getRegistration() and getRegistrations()");

promise_test(async (t) => {
  await promise_rejects_js(t, TypeError,
    navigator.serviceWorker.register("resources/does-not-exist.js", { scope: "resources/scope/404" }));
}, "register() of a script that does not exist rejects with TypeError");

promise_test(async (t) => {
  // resources/lifecycle-worker.js.headers sends Service-Worker-Allowed.
  const registration = await service_worker_unregister_and_register(
    t, "resources/lifecycle-worker.js", "./allowed/");
  assert_equals(registration.scope, new URL("./allowed/", location.href).href);
}, "Service-Worker-Allowed widens the maximum scope");

// META: global=dedicatedworker,sharedworker
// META: title=navigator.serviceWorker in dedicated and shared workers
// META: script=resources/test-helpers.js

test(() => {
  const container = navigator.serviceWorker;
  assert_true(container instanceof ServiceWorkerContainer);
  assert_equals(navigator.serviceWorker, container, "[SameObject]");
  assert_equals(container.controller, null, "no registration matched the worker's URL when it was created");
  assert_true("serviceWorker" in WorkerNavigator.prototype);
  assert_throws_js(TypeError, () => Object.getOwnPropertyDescriptor(WorkerNavigator.prototype, "serviceWorker").get.call({}));
}, "a worker's navigator has its own ServiceWorkerContainer");

promise_test(async (t) => {
  const scope = "resources/scope/registered-by-a-worker-client";
  const registration = await service_worker_unregister_and_register(t, "resources/empty-worker.js", scope);
  assert_true(registration instanceof ServiceWorkerRegistration);
  assert_equals(registration.scope, new URL(scope, location.href).href);
  assert_equals(await navigator.serviceWorker.getRegistration(`${scope}/page`), registration, "the same object");
  assert_equals(await navigator.serviceWorker.getRegistration("resources/elsewhere"), undefined);
  assert_true((await navigator.serviceWorker.getRegistrations()).includes(registration));
  await promise_rejects_dom(t, "SecurityError",
    navigator.serviceWorker.register("https://other.invalid/sw.js"), "a script of another origin");
  await promise_rejects_js(t, TypeError, navigator.serviceWorker.register("resources/missing-worker.js", { scope }));
}, "register(), getRegistration() and getRegistrations() from a worker client");

promise_test(async (t) => {
  const scope = "resources/scope/sync-from-a-worker-client";
  const registration = await service_worker_unregister_and_register(t, "resources/sync-worker.js", scope);
  await wait_for_state(t, registration.installing, "activated");
  assert_true(registration.sync instanceof SyncManager);
  assert_equals(registration.sync, registration.sync, "[SameObject]");
  assert_true(registration.backgroundFetch instanceof BackgroundFetchManager);
  const fired = new Promise((resolve) => {
    navigator.serviceWorker.onmessage = (e) => resolve(e.data);
  });
  await registration.sync.register("from-a-worker-client");
  assert_equals(await fired, "sync from-a-worker-client lastChance false",
    "the service worker got the sync event and could message this client");
  assert_array_equals(await registration.sync.getTags(), ["from-a-worker-client"],
    "a registration is listed while its event runs");
  registration.active.postMessage("release");
}, "registration.sync from a worker client fires the service worker's sync event");

promise_test(async (t) => {
  const registration = await service_worker_unregister_and_register(t, "resources/wide-scope-worker.js", "./");
  const ready = await navigator.serviceWorker.ready;
  assert_equals(ready, registration, "the registration whose scope holds the worker's URL");
  assert_not_equals(ready.active, null);
  assert_equals(await navigator.serviceWorker.ready, ready, "the same promise result");
  assert_equals(navigator.serviceWorker.controller, null, "registering does not control an existing client");
}, "ready resolves with the registration of the worker's URL once it is active");

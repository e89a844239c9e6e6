// META: script=resources/test-helpers.js
// META: title=ServiceWorkerRegistration.update() and updateViaCache

function worker_url(query) {
  return `resources/update-worker.py?token=${crypto.randomUUID()}&${query}`;
}

async function registered_and_active(t, url, scope, options = {}) {
  const existing = await navigator.serviceWorker.getRegistration(scope);
  if (existing) await existing.unregister();
  const registration = await navigator.serviceWorker.register(url, { scope, ...options });
  t.add_cleanup(() => registration.unregister().catch(() => {}));
  await wait_for_state(t, registration.installing || registration.waiting || registration.active, "activated");
  return registration;
}

promise_test(async (t) => {
  const registration = await registered_and_active(t, worker_url("mode=same&import=1"), "resources/scope/update-same");
  const active = registration.active;
  const result = await registration.update();
  assert_equals(result, registration, "update() resolves with the registration");
  assert_equals(registration.installing, null, "identical bytes install nothing");
  assert_equals(registration.waiting, null);
  assert_equals(registration.active, active);
}, "update() with byte-identical main and imported scripts installs no new worker");

promise_test(async (t) => {
  const registration = await registered_and_active(t, worker_url("mode=changing"), "resources/scope/update-changed");
  const active = registration.active;
  const found = new Promise((resolve) => registration.addEventListener("updatefound", resolve, { once: true }));
  await registration.update();
  await found;
  const installing = registration.installing;
  assert_not_equals(installing, null, "changed bytes install a new worker");
  assert_not_equals(installing, active);
  await wait_for_state(t, installing, "activated");
  assert_equals(active.state, "redundant");
}, "update() with a changed main script installs a new worker");

promise_test(async (t) => {
  const registration = await registered_and_active(t, worker_url("mode=fail-after-first"), "resources/scope/update-fails");
  const active = registration.active;
  await promise_rejects_js(t, TypeError, registration.update());
  assert_equals(registration.active, active, "the active worker stays");
  assert_equals(active.state, "activated");
  assert_equals(registration.installing, null);
}, "update() whose fetch fails rejects with TypeError and keeps the active worker");

promise_test(async (t) => {
  const registration = await service_worker_unregister_and_register(
    t, "resources/empty-worker.js", "resources/scope/update-uninstalled");
  await wait_for_state(t, registration.installing || registration.waiting || registration.active, "activated");
  await registration.unregister();
  await promise_rejects_dom(t, "InvalidStateError", registration.update());
}, "update() of an unregistered (uninstalled) registration rejects with InvalidStateError");

promise_test(async (t) => {
  const scope = "resources/scope/update-via-cache-attr";
  for (const [options, expected] of [[{}, "imports"], [{ updateViaCache: "all" }, "all"], [{ updateViaCache: "none" }, "none"], [{ updateViaCache: "imports" }, "imports"]]) {
    const registration = await service_worker_unregister_and_register(t, "resources/empty-worker.js", scope);
    const withMode = await navigator.serviceWorker.register("resources/empty-worker.js", { scope, ...options });
    assert_equals(withMode, registration);
    assert_equals(withMode.updateViaCache, expected, JSON.stringify(options));
  }
  await promise_rejects_js(t, TypeError,
    navigator.serviceWorker.register("resources/empty-worker.js", { scope, updateViaCache: "sometimes" }));
}, "register() stores updateViaCache on the registration; updateViaCache reflects it");

for (const [mode, main, imported] of [["imports", "max-age=0", "-"], ["all", "-", "-"], ["none", "max-age=0", "max-age=0"]]) {
  promise_test(async (t) => {
    const registration = await registered_and_active(
      t, worker_url("mode=changing&import=1"), `resources/scope/update-via-cache-${mode}`, { updateViaCache: mode });
    await registration.update();
    const worker = registration.installing || registration.waiting || registration.active;
    const seen = await post_and_wait(worker, "cache-control?");
    assert_equals(seen.main, main, "the main script's fetch");
    assert_equals(seen.imported, imported, "the imported script's fetch");
  }, `updateViaCache '${mode}' decides which script fetches of update() bypass the HTTP cache`);
}

promise_test(async (t) => {
  const registration = await registered_and_active(
    t, worker_url("mode=changing&import=module"), "resources/scope/update-via-cache-module",
    { type: "module", updateViaCache: "none" });
  await registration.update();
  const worker = registration.installing || registration.waiting || registration.active;
  const seen = await post_and_wait(worker, "cache-control?");
  assert_equals(seen.main, "max-age=0", "the main module's fetch");
  assert_equals(seen.imported, "max-age=0", "the imported module's fetch");
}, "updateViaCache 'none' makes the fetches of a module worker's graph bypass the HTTP cache");

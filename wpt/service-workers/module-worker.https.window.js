// META: script=resources/test-helpers.js
// META: title=Module service workers: register({type: "module"})

promise_test(async (t) => {
  const registration = await navigator.serviceWorker.register("resources/module-worker.js", {
    type: "module",
    scope: "resources/scope/module",
  });
  t.add_cleanup(() => registration.unregister());
  const worker = registration.installing || registration.waiting || registration.active;
  await wait_for_state(t, worker, "activated");
  const reply = await post_and_wait(registration.active, "report");
  assert_equals(reply.answer, 42, "a static import is evaluated");
  assert_equals(reply.importScriptsError, "TypeError", "importScripts() throws in a module worker");
  assert_equals(reply.dynamicImport, "TypeError", "import() rejects in a service worker");
  assert_equals(reply.metaUrl, new URL("resources/module-worker.js", location.href).href);
}, "a module worker runs its static imports; importScripts() and import() are unavailable");

promise_test(async (t) => {
  await promise_rejects_js(
    t,
    TypeError,
    navigator.serviceWorker.register("resources/module-tla-worker.js", {
      type: "module",
      scope: "resources/scope/module-tla",
    }),
  );
}, "a module worker with top-level await fails to register");

promise_test(async (t) => {
  await promise_rejects_js(
    t,
    TypeError,
    navigator.serviceWorker.register("resources/module-worker.js", {
      type: "modules",
      scope: "resources/scope/module-bad-type",
    }),
  );
}, "an unknown WorkerType rejects with TypeError");

promise_test(async (t) => {
  await promise_rejects_js(
    t,
    TypeError,
    navigator.serviceWorker.register("resources/module-worker.js", {
      scope: "resources/scope/module-as-classic",
    }),
  );
}, "a module script registered as a classic worker fails to evaluate");

// META: global=serviceworker
// META: title=navigator.serviceWorker in a service worker

test(() => {
  const container = navigator.serviceWorker;
  assert_true(container instanceof ServiceWorkerContainer);
  assert_equals(navigator.serviceWorker, container, "[SameObject]");
  assert_equals(container.controller, null, "a service worker is never controlled");
  assert_throws_js(TypeError, () => Object.getOwnPropertyDescriptor(WorkerNavigator.prototype, "serviceWorker").get.call({}));
}, "a service worker's navigator has its own ServiceWorkerContainer");

promise_test(async () => {
  const own = await navigator.serviceWorker.getRegistration(self.registration.scope);
  assert_equals(own, self.registration, "the worker's own registration, as the same object");
  const all = await navigator.serviceWorker.getRegistrations();
  assert_true(all.includes(self.registration));
}, "getRegistration() and getRegistrations() find the worker's own registration");

promise_test(async (t) => {
  const registration = await navigator.serviceWorker.register("resources/empty-worker.js", {
    scope: "resources/scope/registered-by-a-worker",
  });
  t.add_cleanup(() => registration.unregister());
  assert_true(registration instanceof ServiceWorkerRegistration);
  assert_equals(registration.scope, new URL("resources/scope/registered-by-a-worker", location.href).href);
  assert_equals(await navigator.serviceWorker.getRegistration("resources/scope/registered-by-a-worker/page"), registration);
  await promise_rejects_dom(t, "SecurityError",
    navigator.serviceWorker.register("https://other.invalid/sw.js"), "a script of another origin");
}, "a service worker registers another worker of its origin");

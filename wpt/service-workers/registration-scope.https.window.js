// META: title=Register's default scope, scope parsing and matching
// META: script=resources/test-helpers.js

const base = new URL("resources/", location.href).href;

promise_test(async (t) => {
  const registration = await navigator.serviceWorker.register("resources/empty-worker.js");
  t.add_cleanup(() => registration.unregister());
  assert_equals(registration.scope, base, "the script's directory");
}, "without a scope, the scope is the script URL's directory");

promise_test(async (t) => {
  const registration = await service_worker_unregister_and_register(
    t, "resources/empty-worker.js#fragment", "resources/parsed/scope?query=1#fragment");
  assert_equals(registration.scope, base + "parsed/scope", "query and fragment dropped");
  const worker = registration.installing || registration.waiting || registration.active;
  assert_equals(worker.scriptURL, base + "empty-worker.js", "the script URL's fragment dropped");
}, "a scope's query and fragment and the script URL's fragment are not kept");

promise_test(async (t) => {
  const outer = await service_worker_unregister_and_register(t, "resources/empty-worker.js", "resources/matching/");
  const inner = await service_worker_unregister_and_register(t, "resources/nested/empty-worker.js", "resources/nested/");
  assert_equals((await navigator.serviceWorker.getRegistration("resources/matching/page.html")).scope, outer.scope);
  assert_equals((await navigator.serviceWorker.getRegistration("resources/nested/deeper/page.html")).scope, inner.scope,
    "the longest matching scope wins");
  assert_equals(await navigator.serviceWorker.getRegistration("elsewhere/page.html"), undefined);
}, "getRegistration() finds the registration with the longest scope that prefixes the URL");

promise_test(async (t) => {
  const scope = "resources/replaced/";
  const first = await service_worker_unregister_and_register(t, "resources/empty-worker.js", scope);
  const second = await navigator.serviceWorker.register("resources/other-empty-worker.js", { scope });
  assert_equals(second, first, "the same registration object");
  const newest = second.installing || second.waiting || second.active;
  assert_equals(newest.scriptURL, base + "other-empty-worker.js");
}, "register() of a scope with another script updates that registration");

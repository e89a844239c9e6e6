// META: global=serviceworker
// META: title=Background Fetch from inside a service worker
'use strict';

test(() => {
  assert_true("BackgroundFetchManager" in self);
  assert_true(self.registration.backgroundFetch instanceof BackgroundFetchManager);
  assert_true("BackgroundFetchEvent" in self);
  assert_true("BackgroundFetchUpdateUIEvent" in self);
}, "the Background Fetch interfaces are exposed in the worker");

promise_test(async () => {
  assert_array_equals(await self.registration.backgroundFetch.getIds(), []);
}, "getIds() from the worker");

promise_test(async (t) => {
  await promise_rejects_js(t, TypeError, self.registration.backgroundFetch.get(""));
}, "get('') rejects with TypeError");

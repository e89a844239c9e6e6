// META: script=resources/utils.js
// META: title=BackgroundFetchManager.fetch() from a page
'use strict';

backgroundFetchTest(async (test, backgroundFetch) => {
  await promise_rejects_js(test, TypeError, backgroundFetch.fetch(uniqueId(), []));
}, "an empty request list rejects with TypeError");

backgroundFetchTest(async (test, backgroundFetch) => {
  await promise_rejects_js(test, TypeError,
    backgroundFetch.fetch(uniqueId(), new Request("resources/feature-name.txt", { mode: "no-cors" })));
}, "a no-cors request rejects with TypeError");

backgroundFetchTest(async (test, backgroundFetch) => {
  const id = uniqueId();
  const message = getMessageFromServiceWorker();
  const registration = await backgroundFetch.fetch(id, ["resources/feature-name.txt"]);
  assert_equals(registration.id, id);
  assert_equals(registration.result, "");
  assert_equals(registration.failureReason, "");
  assert_equals(registration.downloadTotal, 0);
  const data = await message;
  assert_equals(data.type, "backgroundfetchsuccess");
  assert_equals(data.id, id);
  assert_equals(data.result, "success");
  assert_array_equals(data.bodies, ["background fetch body\n"]);
}, "a fetch completes and the worker receives backgroundfetchsuccess with the records");

backgroundFetchTest(async (test, backgroundFetch) => {
  const message = getMessageFromServiceWorker();
  await backgroundFetch.fetch(uniqueId(), ["resources/missing.txt"]);
  const data = await message;
  assert_equals(data.type, "backgroundfetchfail");
  assert_equals(data.failureReason, "bad-status");
}, "a 404 record fails the fetch with bad-status");

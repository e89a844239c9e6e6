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

backgroundFetchTest(async (test, backgroundFetch) => {
  const message = getMessageFromServiceWorker();
  await backgroundFetch.fetch(uniqueId(), ["resources/missing.txt"]);
  const data = await message;
  assert_equals(data.type, "backgroundfetchfail");
  assert_equals(data.failureReason, "bad-status");
  assert_equals(data.records[0].status, 404, "the response keeps its status");
  assert_equals(data.records[0].body, "", "the body of a non-OK response is not stored");
}, "a record with a non-OK response keeps its status and has an empty body");

backgroundFetchTest(async (test, backgroundFetch) => {
  await promise_rejects_quotaexceedederror(
    test,
    backgroundFetch.fetch(uniqueId(), ["resources/feature-name.txt"], { downloadTotal: Number.MAX_SAFE_INTEGER }),
    Number.MAX_SAFE_INTEGER,
    (quota) => typeof quota === "number" && quota < Number.MAX_SAFE_INTEGER,
  );
}, "a downloadTotal above the quota rejects with a QuotaExceededError that says what was requested");

test(() => {
  const e = new QuotaExceededError("m", { quota: 1, requested: 2 });
  assert_true(e instanceof DOMException);
  assert_equals(e.name, "QuotaExceededError");
  assert_equals(e.code, 22);
  assert_equals(e.quota, 1);
  assert_equals(e.requested, 2);
}, "QuotaExceededError is an interface deriving from DOMException");

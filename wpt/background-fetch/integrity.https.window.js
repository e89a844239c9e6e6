// META: script=resources/utils.js
// META: title=Background Fetch: Subresource Integrity of records
'use strict';

// Fetch "main fetch" step 22: a body that does not match the request's
// integrity metadata is a network error; in a background fetch that record
// fails and the fetch fails with fetch-error.
const SHA384 = "sha384-fOghSw1MuWfkx4fsOaDciMlq1mt3Vcb9bcFWDVnAZYWUhxY/4FZSgrk1kE6RzIZl";
const WRONG = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

backgroundFetchTest(async (test, backgroundFetch) => {
  const message = getMessageFromServiceWorker();
  await backgroundFetch.fetch(uniqueId(), [
    new Request("resources/feature-name.txt", { integrity: SHA384 }),
    new Request("resources/feature-name.txt?two", { integrity: `${WRONG} ${SHA384}` }),
  ]);
  const data = await message;
  assert_equals(data.type, "backgroundfetchsuccess");
  assert_array_equals(data.bodies, ["background fetch body\n", "background fetch body\n"]);
}, "records whose bodies match their integrity metadata succeed");

backgroundFetchTest(async (test, backgroundFetch) => {
  const message = getMessageFromServiceWorker();
  await backgroundFetch.fetch(uniqueId(), [
    new Request("resources/feature-name.txt", { integrity: WRONG }),
    "resources/feature-name.txt?ok",
  ]);
  const data = await message;
  assert_equals(data.type, "backgroundfetchfail");
  assert_equals(data.failureReason, "fetch-error");
  assert_equals(data.records[0].error, "TypeError");
  assert_equals(data.records[1].body, "background fetch body\n");
}, "a record whose body does not match its integrity metadata fails with fetch-error");

promise_test(async (t) => {
  const response = await fetch("resources/feature-name.txt", { integrity: SHA384 });
  assert_equals(await response.text(), "background fetch body\n");
  await promise_rejects_js(t, TypeError, fetch("resources/feature-name.txt", { integrity: WRONG }));
}, "fetch() checks integrity: a mismatching body rejects with TypeError");

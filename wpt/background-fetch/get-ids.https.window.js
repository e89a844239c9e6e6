// META: script=/resources/testdriver.js
// META: script=/resources/testdriver-vendor.js
// META: script=resources/utils.js
// META: title=BackgroundFetchManager.getIds()
'use strict';

promise_test(async () => {
  await test_driver.set_permission({ name: "background-fetch" }, "granted");
}, "test_driver.set_permission grants background-fetch");

backgroundFetchTest(async (test, backgroundFetch) => {
  assert_array_equals(await backgroundFetch.getIds(), []);
}, "getIds() is empty without background fetches");

backgroundFetchTest(async (test, backgroundFetch) => {
  const id = uniqueId();
  const registration = await backgroundFetch.fetch(id, "resources/feature-name.txt");
  assert_equals(registration.id, id);
  const ids = await backgroundFetch.getIds();
  assert_true(ids.includes(id), "the active fetch is listed");
}, "getIds() lists an active fetch");

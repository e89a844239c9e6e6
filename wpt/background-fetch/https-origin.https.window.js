// META: script=resources/utils.js
// META: script=/service-workers/resources/host-info.sub.js
// META: title=Background Fetch of https URLs (the run's TLS ports)
'use strict';

backgroundFetchTest(async (test, backgroundFetch) => {
  const info = self.swrtHostInfo;
  const message = getMessageFromServiceWorker();
  const url = info.HTTPS_ORIGIN + "/background-fetch/resources/feature-name.txt";
  await backgroundFetch.fetch(uniqueId(), [url]);
  const data = await message;
  assert_equals(data.type, "backgroundfetchsuccess");
  assert_equals(data.result, "success");
  assert_array_equals(data.bodies, ["background fetch body\n"]);
}, "a background fetch of an HTTPS_ORIGIN URL completes");

backgroundFetchTest(async (test, backgroundFetch) => {
  const info = self.swrtHostInfo;
  const message = getMessageFromServiceWorker();
  const url = info.HTTPS_REMOTE_ORIGIN +
    "/background-fetch/resources/feature-name.txt?pipe=header(Access-Control-Allow-Origin,*)";
  await backgroundFetch.fetch(uniqueId(), [url]);
  const data = await message;
  assert_equals(data.type, "backgroundfetchsuccess");
  assert_array_equals(data.bodies, ["background fetch body\n"]);
}, "a background fetch of an HTTPS_REMOTE_ORIGIN URL completes");

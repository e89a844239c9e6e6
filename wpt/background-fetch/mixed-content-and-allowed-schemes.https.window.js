// META: script=resources/utils.js
// META: script=/service-workers/resources/host-info.sub.js
// META: title=Background Fetch: Mixed Content and potentially trustworthy URLs
'use strict';

// Mixed Content "should fetching request be blocked as mixed content?": from
// a secure context, an http: URL is blocked unless its origin is potentially
// trustworthy (Secure Contexts: loopback IP literals and localhost names).

function recordFor(data, url) {
  return data.records.find((r) => r.url === url);
}

backgroundFetchTest(async (test, backgroundFetch) => {
  const info = self.swrtHostInfo;
  const message = getMessageFromServiceWorker();
  // A test host name that resolves to loopback is not trustworthy over http.
  const blocked = info.HTTP_ORIGIN + "/background-fetch/resources/feature-name.txt";
  const allowed = new URL("resources/feature-name.txt", location.href).href;
  await backgroundFetch.fetch(uniqueId(), [blocked, allowed]);
  const data = await message;
  assert_equals(data.type, "backgroundfetchfail");
  assert_equals(data.failureReason, "fetch-error");
  assert_equals(recordFor(data, blocked).error, "TypeError", "the blocked record has no response");
  assert_equals(recordFor(data, allowed).body, "background fetch body\n", "the other record completes");
}, "an http: URL on a host name mapped to loopback is blocked as mixed content; the others complete");

backgroundFetchTest(async (test, backgroundFetch) => {
  const info = self.swrtHostInfo;
  const message = getMessageFromServiceWorker();
  const port = new URL(info.HTTP_ORIGIN).port;
  const url = `http://127.0.0.1:${port}/background-fetch/resources/feature-name.txt` +
    "?pipe=header(Access-Control-Allow-Origin,*)";
  await backgroundFetch.fetch(uniqueId(), [url]);
  const data = await message;
  assert_equals(data.type, "backgroundfetchsuccess");
  assert_array_equals(data.bodies, ["background fetch body\n"]);
}, "an http: URL on a loopback IP literal is potentially trustworthy and is fetched");

backgroundFetchTest(async (test, backgroundFetch) => {
  const message = getMessageFromServiceWorker();
  await backgroundFetch.fetch(uniqueId(), ["wss://127.0.0.1/", "resources/feature-name.txt"]);
  const data = await message;
  assert_equals(data.type, "backgroundfetchfail");
  assert_equals(data.failureReason, "fetch-error");
  assert_equals(data.records[0].error, "TypeError");
  assert_equals(data.records[1].body, "background fetch body\n");
}, "a wss: URL fails its record with a network error");

// META: script=resources/utils.js
// META: script=/service-workers/resources/host-info.sub.js
// META: title=Background Fetch: CORS for cross-origin records
'use strict';

// Fetch "CORS protocol": cross-origin requests that are not CORS-safelisted
// get a preflight (cached for Access-Control-Max-Age); a failing preflight
// or CORS check is a network error and nothing of the response is exposed.

// A fresh stash key (wptserve's stash wants a UUID), as /common/utils.js's token().
function token() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function preflightUrl(query) {
  const key = token();
  const base = self.swrtHostInfo.HTTPS_REMOTE_ORIGIN + "/background-fetch/resources/preflight.py";
  return { url: `${base}?token=${key}&${query}`, count: `${base}?token=${key}&count=1` };
}

async function preflightsSeen(countUrl) {
  return Number(await (await fetch(countUrl)).text());
}

backgroundFetchTest(async (test, backgroundFetch) => {
  const message = getMessageFromServiceWorker();
  const url = self.swrtHostInfo.HTTPS_REMOTE_ORIGIN + "/background-fetch/resources/feature-name.txt";
  await backgroundFetch.fetch(uniqueId(), [url]);
  const data = await message;
  assert_equals(data.type, "backgroundfetchfail");
  assert_equals(data.failureReason, "fetch-error");
  assert_equals(data.records[0].error, "TypeError");
  assert_equals(data.downloaded, 0, "no byte of the failed response is counted");
}, "a cross-origin response without Access-Control-Allow-Origin fails and reveals nothing");

backgroundFetchTest(async (test, backgroundFetch) => {
  const message = getMessageFromServiceWorker();
  const { url, count } = preflightUrl("methods=GET");
  await backgroundFetch.fetch(uniqueId(), [new Request(url, { method: "PUT", body: "x" })]);
  const data = await message;
  assert_equals(data.type, "backgroundfetchfail");
  assert_equals(data.failureReason, "fetch-error");
  assert_equals(data.records[0].error, "TypeError");
  assert_equals(data.downloaded, 0);
  assert_equals(await preflightsSeen(count), 1, "a preflight was sent");
}, "a PUT whose preflight does not allow the method fails with fetch-error");

backgroundFetchTest(async (test, backgroundFetch) => {
  const message = getMessageFromServiceWorker();
  const { url, count } = preflightUrl("methods=POST&headers=content-type");
  const request = new Request(url, { method: "POST", body: "{}", headers: { "Content-Type": "text/json" } });
  await backgroundFetch.fetch(uniqueId(), [request]);
  const data = await message;
  assert_equals(data.type, "backgroundfetchsuccess");
  assert_array_equals(data.bodies, ["cors ok"]);
  assert_equals(await preflightsSeen(count), 1, "Content-Type text/json is preflighted");
}, "a request with Content-Type text/json is preflighted and succeeds when allowed");

backgroundFetchTest(async (test, backgroundFetch) => {
  const { url, count } = preflightUrl("methods=PUT&max_age=600");
  for (let i = 0; i < 2; i++) {
    const message = getMessageFromServiceWorker();
    await backgroundFetch.fetch(uniqueId(), [new Request(url, { method: "PUT", body: "x" })]);
    const data = await message;
    assert_equals(data.type, "backgroundfetchsuccess");
  }
  assert_equals(await preflightsSeen(count), 1, "the second request used the cached preflight");
}, "a preflight is cached for Access-Control-Max-Age");

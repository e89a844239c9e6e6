// META: script=resources/utils.js
// META: title=Background Fetch under CSP connect-src 'none'
'use strict';

// The page may connect nowhere. Background Fetch still registers (the
// policy is checked per request, when the request is made); the record is
// blocked and the fetch fails. (The page's results reach the runner anyway.)
const meta = document.createElement("meta");
meta.setAttribute("http-equiv", "Content-Security-Policy");
meta.setAttribute("content", "connect-src 'none'");
document.head.appendChild(meta);

backgroundFetchTest(async (test, backgroundFetch) => {
  const message = getMessageFromServiceWorker();
  const registration = await backgroundFetch.fetch(uniqueId(), "https://example.com/");
  assert_equals(registration.result, "");
  const data = await message;
  assert_equals(data.type, "backgroundfetchfail");
  assert_equals(data.failureReason, "fetch-error");
  assert_equals(data.records[0].error, "TypeError");
}, "a fetch blocked by CSP resolves, and its record fails with a network error");

promise_test(async (t) => {
  await promise_rejects_js(t, TypeError, fetch("resources/feature-name.txt"));
}, "the page's own fetch() is blocked by connect-src 'none'");

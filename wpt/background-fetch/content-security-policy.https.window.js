// META: script=resources/utils.js
// META: script=/service-workers/resources/host-info.sub.js
// META: title=Background Fetch: the page's CSP connect-src applies per record
'use strict';

// CSP "Should request be blocked by Content Security Policy?" runs for each
// request a background fetch makes: a blocked record's responseReady
// rejects with TypeError, the others proceed, the fetch fails.
const meta = document.createElement("meta");
meta.setAttribute("http-equiv", "Content-Security-Policy");
meta.setAttribute("content", "connect-src 'self'");
document.head.appendChild(meta);

backgroundFetchTest(async (test, backgroundFetch) => {
  const message = getMessageFromServiceWorker();
  const blocked = self.swrtHostInfo.HTTPS_REMOTE_ORIGIN +
    "/background-fetch/resources/feature-name.txt?pipe=header(Access-Control-Allow-Origin,*)";
  const allowed = new URL("resources/feature-name.txt", location.href).href;
  await backgroundFetch.fetch(uniqueId(), [blocked, allowed]);
  const data = await message;
  assert_equals(data.type, "backgroundfetchfail");
  assert_equals(data.failureReason, "fetch-error");
  assert_equals(data.records[0].error, "TypeError");
  assert_equals(data.records[1].body, "background fetch body\n");
}, "a record blocked by connect-src rejects responseReady with TypeError; the others complete");

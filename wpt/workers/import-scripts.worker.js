// META: title=importScripts() in a classic dedicated worker
importScripts("/resources/testharness.js");
importScripts("resources/helper.js");

test(() => {
  assert_equals(helperLoaded(), "helper DedicatedWorkerGlobalScope");
}, "importScripts() runs the script in the worker's global scope");

test(() => {
  assert_throws_dom("NetworkError", () => importScripts("resources/does-not-exist.js"));
}, "importScripts() of a missing script throws NetworkError");

done();

// META: script=resources/test-helpers.js
// META: title=ExtendableMessageEvent of a message from a page

promise_test(async (t) => {
  const registration = await service_worker_unregister_and_register(
    t, "resources/extendable-message-worker.js", "resources/scope/extendable-message");
  const worker = registration.installing;
  await wait_for_state(t, worker, "activated");
  const channel = new MessageChannel();
  const reply = new Promise((resolve) => { channel.port1.onmessage = (e) => resolve(e.data); });
  worker.postMessage("observe", [channel.port2]);
  const seen = await reply;
  assert_equals(seen.interface, "[object ExtendableMessageEvent]");
  assert_true(seen.trusted, "isTrusted");
  assert_equals(seen.data, "observe");
  assert_equals(seen.origin, location.origin, "origin is the page's");
  assert_equals(seen.lastEventId, "");
  assert_equals(seen.source, "WindowClient", "source is the page's Client");
  assert_equals(seen.sourceUrl, location.href);
  assert_equals(seen.frameType, "top-level");
  assert_equals(seen.ports, 1, "the transferred port");
  assert_true(seen.portsFrozen, "ports is a frozen array");
  assert_true(seen.portsSameObject, "ports is the same array on every get");
  assert_equals(seen.waitUntil, "ok", "waitUntil() while the event is dispatched");
  assert_equals(seen.waitUntilLater, "ok", "waitUntil() while an extension is pending");
}, "a message from a page is a trusted ExtendableMessageEvent that waitUntil() extends");

promise_test(async (t) => {
  const registration = await service_worker_unregister_and_register(
    t, "resources/extendable-message-worker.js", "resources/scope/extendable-message-worker");
  const worker = registration.installing;
  await wait_for_state(t, worker, "activated");
  const channel = new MessageChannel();
  const reply = new Promise((resolve) => { channel.port1.onmessage = (e) => resolve(e.data); });
  worker.postMessage("from-self", [channel.port2]);
  const seen = await reply;
  assert_equals(seen.source, "ServiceWorker", "source is the sending ServiceWorker");
  assert_true(seen.sourceIsSelf, "the worker's own ServiceWorker object");
  assert_equals(seen.origin, location.origin);
}, "a message a service worker posts to itself has the ServiceWorker as its source");

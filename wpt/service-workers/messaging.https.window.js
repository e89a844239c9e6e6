// META: script=resources/test-helpers.js
// META: title=Messages between a page and its service worker

async function activeWorker(t, scope) {
  const registration = await service_worker_unregister_and_register(
    t, "resources/message-worker.js", scope);
  // (lifecycle.https.window.js checks that `installing` is set on resolution.)
  const worker = registration.installing || registration.waiting || registration.active;
  await wait_for_state(t, worker, "activated");
  return worker;
}

promise_test(async (t) => {
  const worker = await activeWorker(t, "resources/scope/msg-port");
  const reply = await post_and_wait(worker, { hello: [1, 2, 3] });
  assert_object_equals(reply.echo, { hello: [1, 2, 3] }, "structured clone of the data");
  assert_true(reply.isExtendable, "the worker receives an ExtendableMessageEvent");
  assert_equals(reply.ports, 1, "with the transferred port");
  assert_equals(reply.sourceType, "window");
  assert_equals(reply.sourceUrl, location.href);
  assert_equals(reply.origin, location.origin);
}, "page to worker with a MessagePort; the reply comes through the port");

promise_test(async (t) => {
  const worker = await activeWorker(t, "resources/scope/msg-client");
  navigator.serviceWorker.startMessages();
  const reply = new Promise((resolve) =>
    navigator.serviceWorker.addEventListener("message", (e) => resolve(e), { once: true }));
  worker.postMessage("via client");
  const event = await reply;
  assert_equals(event.data.echo, "via client");
  assert_equals(event.data.ports, 0);
  assert_equals(event.source, worker, "the event's source is the ServiceWorker");
  assert_equals(event.origin, location.origin);
}, "worker to page through Client.postMessage");

promise_test(async (t) => {
  const worker = await activeWorker(t, "resources/scope/msg-port-back");
  navigator.serviceWorker.startMessages();
  const got = new Promise((resolve) =>
    navigator.serviceWorker.addEventListener("message", (e) => resolve(e), { once: true }));
  worker.postMessage({ sendPortBack: true });
  const event = await got;
  assert_equals(event.data.kind, "port");
  assert_equals(event.ports.length, 1, "the worker transferred a port to the page");
  const port = event.ports[0];
  const answer = new Promise((resolve) => { port.onmessage = (e) => resolve(e.data); });
  port.postMessage("ping");
  assert_equals(await answer, "port says: ping");
}, "worker to page with a transferred MessagePort, used both ways");

test(() => {
  const channel = new MessageChannel();
  assert_true(channel.port1 instanceof MessagePort);
  assert_true(channel.port2 instanceof MessagePort);
}, "MessageChannel exists in the page");

promise_test(async (t) => {
  const worker = await activeWorker(t, "resources/scope/msg-uncloneable");
  assert_throws_dom("DataCloneError", () => worker.postMessage(() => "a function"));
  assert_throws_dom("DataCloneError", () => worker.postMessage(Symbol("s")));
  const dedicated = new Worker("resources/empty-worker.js");
  t.add_cleanup(() => dedicated.terminate());
  assert_throws_dom("DataCloneError", () => dedicated.postMessage([function named() {}]));
}, "a message that cannot be cloned is a DataCloneError, to a service worker and to a dedicated worker");

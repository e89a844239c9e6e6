// META: title=connect-src delivered in a Content-Security-Policy response header
// META: script=/service-workers/resources/test-helpers.js
// META: script=/service-workers/resources/host-info.sub.js

// A policy travels with the response that delivered a document or a
// worker's script, and governs that document's or worker's own fetch().

const dataUrl = new URL("resources/data.txt", location.href).href;
const workerScript = "resources/fetch-on-message-worker.js";
const noneHeader = "?pipe=header(Content-Security-Policy,connect-src 'none')";

// The name of the error fetch() in `win` rejects with, or "loaded".
function fetchIn(win, url, init) {
  return win.fetch(url, init).then(() => "loaded", (error) => error.name);
}

function ask(target, url) {
  const channel = new MessageChannel();
  const answer = new Promise((resolve) => {
    channel.port1.onmessage = (event) => resolve(event.data);
  });
  target.postMessage(url, [channel.port2]);
  return answer;
}

promise_test(async (t) => {
  const worker = new Worker(workerScript + noneHeader);
  t.add_cleanup(() => worker.terminate());
  assert_equals(await ask(worker, dataUrl), "TypeError");
}, "a dedicated worker's script header blocks the worker's fetch()");

promise_test(async (t) => {
  const worker = new Worker(workerScript);
  t.add_cleanup(() => worker.terminate());
  assert_equals(await ask(worker, dataUrl), "loaded");
}, "a dedicated worker without a policy fetches");

promise_test(async (t) => {
  const scope = "resources/csp-scope/";
  const registration = await service_worker_unregister_and_register(t, workerScript + noneHeader, scope);
  t.add_cleanup(() => registration.unregister());
  const worker = registration.installing || registration.waiting || registration.active;
  assert_equals(await ask(worker, dataUrl), "TypeError");
}, "a service worker's script header blocks the service worker's fetch()");

promise_test(async (t) => {
  const frame = document.createElement("iframe");
  t.add_cleanup(() => frame.remove());
  const loaded = new Promise((resolve) => frame.onload = resolve);
  frame.src = "resources/blank.html" + noneHeader;
  document.body.appendChild(frame);
  await loaded;
  assert_equals(await fetchIn(frame.contentWindow, dataUrl), "TypeError");
  // The parent's own fetch() is not governed by the frame's policy.
  assert_true((await fetch(dataUrl)).ok);
}, "a frame's document header blocks the frame's fetch(), not its parent's");

promise_test(async (t) => {
  const frame = document.createElement("iframe");
  t.add_cleanup(() => frame.remove());
  const loaded = new Promise((resolve) => frame.onload = resolve);
  frame.src = "resources/blank.html" + noneHeader;
  document.body.appendChild(frame);
  await loaded;
  const inner = frame.contentDocument.createElement("iframe");
  const innerLoaded = new Promise((resolve) => inner.onload = resolve);
  inner.srcdoc = "<p>inherits";
  frame.contentDocument.body.appendChild(inner);
  await innerLoaded;
  assert_equals(await fetchIn(inner.contentWindow, dataUrl), "TypeError");
}, "a srcdoc frame inherits its parent document's policy");

promise_test(async (t) => {
  const frame = document.createElement("iframe");
  t.add_cleanup(() => frame.remove());
  const loaded = new Promise((resolve) => frame.onload = resolve);
  frame.src = "resources/blank.html?pipe=header(Content-Security-Policy,connect-src 'self')";
  document.body.appendChild(frame);
  await loaded;
  const meta = frame.contentDocument.createElement("meta");
  meta.setAttribute("http-equiv", "Content-Security-Policy");
  meta.setAttribute("content", "connect-src https:");
  frame.contentDocument.head.appendChild(meta);
  const remote = `${swrtHostInfo.HTTPS_REMOTE_ORIGIN}/content-security-policy/resources/data.txt`;
  assert_equals(await fetchIn(frame.contentWindow, dataUrl), "loaded", "allowed by both policies");
  assert_equals(await fetchIn(frame.contentWindow, remote, { mode: "no-cors" }), "TypeError",
    "allowed by the meta policy, not by the header's");
}, "a request must be allowed by every policy, the header's and the meta element's");

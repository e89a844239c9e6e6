// META: global=window,serviceworker
// META: title=Global interfaces of pages and service workers

const common = [
  "EventTarget", "Event", "MessageChannel", "MessagePort", "URL", "URLSearchParams",
  "TextEncoder", "TextDecoder", "Blob", "AbortController", "ReadableStream", "Request",
  "Response", "Headers", "fetch", "setTimeout", "clearTimeout", "structuredClone",
  "crypto", "console", "queueMicrotask", "DOMException", "ServiceWorkerRegistration",
  "ServiceWorker",
];
for (const name of common) {
  test(() => {
    assert_true(name in self, `${name} exists`);
  }, `${name} is exposed`);
}

if (GLOBAL.isWindow()) {
  test(() => {
    assert_equals(self, window);
    assert_true(navigator.serviceWorker instanceof ServiceWorkerContainer);
    assert_true(document instanceof Document);
    assert_equals(typeof location.href, "string");
  }, "window, navigator.serviceWorker, document and location");
} else {
  test(() => {
    assert_true(self instanceof ServiceWorkerGlobalScope);
    assert_true(self.registration instanceof ServiceWorkerRegistration);
    assert_true(self.clients instanceof Clients);
    assert_equals(typeof importScripts, "function");
    assert_equals(typeof skipWaiting, "function");
    assert_true("ExtendableEvent" in self);
    assert_true("ExtendableMessageEvent" in self);
    assert_true("FetchEvent" in self, "FetchEvent");
  }, "ServiceWorkerGlobalScope, registration, clients, importScripts, skipWaiting, events");
}

test(() => {
  assert_true(self.isSecureContext, "the test origin is a secure context");
}, "isSecureContext");

test(() => {
  for (const method of ["log", "info", "warn", "error", "debug", "assert", "table", "group", "groupEnd", "count", "time", "timeEnd"]) {
    assert_equals(typeof console[method], "function", `console.${method}`);
  }
  console.log("console.log from a test: %s %d", "ok", 42);
}, "console methods");

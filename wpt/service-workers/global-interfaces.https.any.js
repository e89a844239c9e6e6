// META: global=window,worker
// META: title=Global interfaces of pages, dedicated and shared workers and service workers

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
} else if ("ServiceWorkerGlobalScope" in self) {
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
} else {
  test(() => {
    const dedicated = "DedicatedWorkerGlobalScope" in self;
    assert_true(self instanceof (dedicated ? DedicatedWorkerGlobalScope : SharedWorkerGlobalScope));
    assert_true(self instanceof WorkerGlobalScope);
    assert_equals(typeof self.postMessage, dedicated ? "function" : "undefined");
    assert_equals(typeof self.onconnect, dedicated ? "undefined" : "object");
    assert_equals(typeof close, "function");
    assert_equals(typeof name, "string");
    assert_true(location instanceof WorkerLocation);
    assert_true(navigator instanceof WorkerNavigator);
    assert_equals(typeof importScripts, "function", "a classic worker has importScripts");
    assert_false("document" in self);
    assert_false("clients" in self);
    assert_equals(typeof Worker, "function");
    assert_false("SharedWorker" in self, "SharedWorker is exposed to Window only");
  }, "DedicatedWorkerGlobalScope or SharedWorkerGlobalScope: name, close, location, navigator, importScripts");
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

// META: global=window,worker,worker-module
// META: title=Dedicated workers from every scope that has them

if ("Worker" in self) {
  promise_test(async () => {
    const worker = new Worker("resources/echo-worker.js", { name: "echo" });
    const reply = new Promise((resolve) => {
      worker.onmessage = (event) => resolve(event.data);
    });
    worker.postMessage({ value: [1, 2, 3] });
    const data = await reply;
    assert_array_equals(data.echo.value, [1, 2, 3]);
    assert_equals(data.scope, "[object DedicatedWorkerGlobalScope]");
    assert_equals(data.name, "echo");
    worker.terminate();
  }, "a dedicated worker answers postMessage()");

  promise_test(async () => {
    const worker = new Worker("resources/echo-worker.js");
    const channel = new MessageChannel();
    const buffer = new Uint8Array([7, 8]).buffer;
    const reply = new Promise((resolve) => {
      channel.port1.onmessage = (event) => resolve(event.data);
    });
    worker.postMessage({ buffer }, [channel.port2, buffer]);
    assert_equals(buffer.byteLength, 0, "the buffer was transferred");
    const data = await reply;
    assert_array_equals(Array.from(new Uint8Array(data.echo.buffer)), [7, 8]);
    channel.port1.close();
    worker.terminate();
  }, "MessagePorts and ArrayBuffers in the transfer list move to the worker");

  promise_test(async () => {
    const worker = new Worker("resources/does-not-exist.js");
    const event = await new Promise((resolve) => {
      worker.onerror = resolve;
    });
    assert_equals(event.type, "error");
    assert_false(event instanceof ErrorEvent, "a load failure fires a simple event");
  }, "a worker script that fails to load fires error at the Worker");

  promise_test(async () => {
    const worker = new Worker("resources/throws-worker.js");
    const event = await new Promise((resolve) => {
      worker.onerror = resolve;
    });
    assert_true(event instanceof ErrorEvent);
    assert_true(event.message.includes("thrown by throws-worker.js"), event.message);
    assert_true(event.filename.endsWith("/resources/throws-worker.js"), event.filename);
    assert_equals(event.lineno, 2);
    event.preventDefault();
  }, "an uncaught exception in the worker fires an ErrorEvent at the Worker");

  test(() => {
    assert_throws_dom("SecurityError", () => new Worker("https://elsewhere.invalid/worker.js"));
    assert_throws_js(TypeError, () => new Worker("resources/echo-worker.js", { type: "wasm" }));
  }, "a cross-origin URL throws SecurityError, an unknown type TypeError");
} else {
  test(() => {
    assert_true("ServiceWorkerGlobalScope" in self);
    assert_false("Worker" in self);
    assert_false("SharedWorker" in self);
  }, "a service worker has no Worker or SharedWorker");
}

test(() => {
  if (GLOBAL.isWindow()) {
    assert_equals(String(location), location.href);
  } else {
    assert_true(location instanceof WorkerLocation);
    assert_true(navigator instanceof WorkerNavigator);
  }
}, "location and navigator");

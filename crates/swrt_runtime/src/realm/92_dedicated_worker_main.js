// Entry point of a dedicated worker's realm: DedicatedWorkerGlobalScope,
// whose `postMessage()` and `message` events talk to the Worker object in
// the realm that created it.
(function () {
const { core, primordials } = __bootstrap;
const { messagePort, nonEnumerable } = core.loadExtScript("ext:swrt/01_web_platform.js");
const { bootstrapWorkerScope } = core.loadExtScript("ext:swrt/56_worker_global_scope.js");
const { transferList } = core.loadExtScript("ext:swrt/55_workers.js");

const { op_swrt_worker_post_owner } = core.ops;
const { ObjectDefineProperty, SymbolFor, TypeError } = primordials;

function postMessage(message, transferOrOptions = undefined) {
  if (arguments.length < 1) {
    throw new TypeError("Failed to execute 'postMessage' on 'DedicatedWorkerGlobalScope': 1 argument required, but only 0 present.");
  }
  const data = messagePort.serializeJsMessageData(message, transferList(transferOrOptions));
  // A message to an owner that is gone is dropped, as in a browser.
  op_swrt_worker_post_owner(data);
}

function bootstrap() {
  delete globalThis[SymbolFor("swrt.bootstrap")];
  bootstrapWorkerScope("dedicated", { postMessage: nonEnumerable(postMessage) });
}
ObjectDefineProperty(globalThis, SymbolFor("swrt.bootstrap"), nonEnumerable(bootstrap));
})();

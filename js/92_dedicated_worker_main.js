// Entry point of a dedicated worker's realm: DedicatedWorkerGlobalScope,
// whose `postMessage()` and `message` events talk to the Worker object in
// the realm that created it.
(function () {
const { core, primordials } = __bootstrap;
const { messagePort, nonEnumerable } = core.loadExtScript("ext:swrt/01_web_platform.js");
const { bootstrapWorkerScope } = core.loadExtScript("ext:swrt/56_worker_global_scope.js");

const { op_swrt_worker_post_owner } = core.ops;
const { ArrayIsArray, ObjectDefineProperty, SymbolFor, TypeError } = primordials;

function transferList(transferOrOptions) {
  if (transferOrOptions === undefined || transferOrOptions === null) return [];
  if (ArrayIsArray(transferOrOptions)) return transferOrOptions;
  if (typeof transferOrOptions === "object") return transferOrOptions.transfer ?? [];
  throw new TypeError("Failed to execute 'postMessage': the transfer list is not a sequence.");
}

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

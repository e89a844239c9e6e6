// Entry point of a shared worker's realm: SharedWorkerGlobalScope, which
// gets a `connect` event with a MessagePort for every `new SharedWorker`.
(function () {
const { core, primordials } = __bootstrap;
const { nonEnumerable } = core.loadExtScript("ext:swrt/01_web_platform.js");
const { bootstrapWorkerScope } = core.loadExtScript("ext:swrt/56_worker_global_scope.js");

const { ObjectDefineProperty, SymbolFor } = primordials;

function bootstrap() {
  delete globalThis[SymbolFor("swrt.bootstrap")];
  bootstrapWorkerScope("shared", {});
}
ObjectDefineProperty(globalThis, SymbolFor("swrt.bootstrap"), nonEnumerable(bootstrap));
})();

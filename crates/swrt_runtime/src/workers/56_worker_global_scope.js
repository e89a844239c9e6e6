// The global scope of a dedicated or shared worker (HTML, Workers):
// WorkerGlobalScope with `name`, `close()`, `location`, `navigator`,
// `importScripts()` for classic scripts, `fetch` (through the controlling
// service worker), `caches`, timers, the Worker constructors and, in a
// secure context, `navigator.serviceWorker` with the registrations'
// `sync` and `backgroundFetch` managers.
(function () {
const { core, primordials } = __bootstrap;
const {
  event: eventModule,
  globalInterfaces,
  installGlobalScope,
  location: locationModule,
  nonEnumerable,
  webGlobalDescriptors,
  WorkerNavigator,
  createWorkerNavigator,
} = core.loadExtScript("ext:swrt/01_web_platform.js");
const { consoleDescriptor } = core.loadExtScript("ext:swrt/02_console.js");
const { cryptoDescriptors } = core.loadExtScript("ext:swrt/03_crypto.js");
const { hideInternals, installErrorReporting, runCommandLoop, runImportedScripts } = core.loadExtScript("ext:swrt/04_realm.js");
const { fetch, setConnectSrcProvider, setControllerFetch } = core.loadExtScript("ext:swrt/10_fetch.js");
const { connectSrcOf } = core.loadExtScript("ext:swrt/05_content_security_policy.js");
const { cacheDescriptors, cachesAttribute } = core.loadExtScript("ext:swrt/71_cache.js");
const { serviceWorkerObjectDescriptors } = core.loadExtScript("ext:swrt/30_service_worker_objects.js");
const {
  containerDescriptors,
  createContainer,
  defineWorkerNavigatorServiceWorker,
  enableClientMessages,
  onController,
  onMessage,
  onRegistration,
} = core.loadExtScript(
  "ext:swrt/50_service_worker_container.js",
);
const { backgroundFetchDescriptors, setCspProvider } = core.loadExtScript("ext:swrt/70_background_fetch.js");
const { backgroundSyncDescriptors } = core.loadExtScript("ext:swrt/72_background_sync.js");
const { deliverMessage, ownerCommandHandlers, takeMessage, workerConstructorDescriptors } = core.loadExtScript("ext:swrt/55_workers.js");

const { op_swrt_client_worker_info, op_swrt_worker_close, op_swrt_worker_fetch_event, op_swrt_worker_import_scripts } = core.ops;
const {
  ArrayPrototypePush,
  ObjectDefineProperties,
  ObjectDefineProperty,
  String,
  Symbol,
  SymbolFor,
  SymbolToStringTag,
  TypeError,
} = primordials;
const { WorkerGlobalScope } = globalInterfaces;
const { MessageEvent, defineEventHandler } = eventModule;

const illegal = Symbol("illegal constructor");

class DedicatedWorkerGlobalScope extends WorkerGlobalScope {
  constructor(key = undefined) {
    if (key !== illegal) throw new TypeError("Illegal constructor");
    // Never reached: the global object is not constructed, only re-prototyped.
    super();
  }
  get [SymbolToStringTag]() { return "DedicatedWorkerGlobalScope"; }
}

class SharedWorkerGlobalScope extends WorkerGlobalScope {
  constructor(key = undefined) {
    if (key !== illegal) throw new TypeError("Illegal constructor");
    super();
  }
  get [SymbolToStringTag]() { return "SharedWorkerGlobalScope"; }
}

for (const name of ["languagechange", "offline", "online", "rejectionhandled", "unhandledrejection"]) {
  defineEventHandler(WorkerGlobalScope.prototype, name);
}
// OnErrorEventHandler: called with (message, filename, lineno, colno,
// error); returning true cancels the event.
defineEventHandler(WorkerGlobalScope.prototype, "error", undefined, true);
for (const name of ["message", "messageerror"]) defineEventHandler(DedicatedWorkerGlobalScope.prototype, name);
defineEventHandler(SharedWorkerGlobalScope.prototype, "connect");

// Set by close(): HTML discards the tasks of a closing worker.
let closing = false;
// Messages and connections that arrive before the script ran wait here
// (HTML, run a worker: the port message queue is enabled afterwards).
let started = false;
let held = [];

function importScripts(...urls) {
  runImportedScripts(op_swrt_worker_import_scripts(urls.map((u) => String(u))));
}

function close() {
  if (closing) return;
  closing = true;
  op_swrt_worker_close();
}

function deliverToGlobal(command) {
  if (closing) {
    takeMessage(command.messageId);
    return;
  }
  if (!started) {
    ArrayPrototypePush(held, command);
    return;
  }
  if (command.kind === "connect") {
    const message = takeMessage(command.messageId);
    if (message === null) return;
    const port = message[1][0] ?? null;
    globalThis.dispatchEvent(new MessageEvent("connect", { data: "", ports: port ? [port] : [], source: port }));
  } else {
    deliverMessage(globalThis, command.messageId);
  }
}

/**
 * Builds the global scope of a `dedicated` or `shared` worker and starts
 * its command loop. `extra` are kind-specific global properties.
 */
function bootstrapWorkerScope(kind, extra) {
  const info = op_swrt_client_worker_info();
  let controller = info.controller;
  locationModule.setLocationHref(info.url);
  // The worker's policies are the ones its script was served with.
  const connectSrc = connectSrcOf(info.csp);
  setConnectSrcProvider(() => connectSrc);
  setCspProvider(() => connectSrc);
  ObjectDefineProperties(globalThis, webGlobalDescriptors());
  ObjectDefineProperties(globalThis, cryptoDescriptors());
  ObjectDefineProperties(globalThis, cacheDescriptors());
  ObjectDefineProperty(WorkerGlobalScope.prototype, "caches", cachesAttribute(WorkerGlobalScope.prototype));
  ObjectDefineProperties(globalThis, workerConstructorDescriptors(false));
  ObjectDefineProperties(globalThis, serviceWorkerObjectDescriptors());
  // Service Workers, WorkerNavigator.serviceWorker ([SecureContext,
  // SameObject]): the container whose client is this worker.
  let container = null;
  if (info.secureContext) {
    ObjectDefineProperties(globalThis, containerDescriptors());
    ObjectDefineProperties(globalThis, backgroundFetchDescriptors(false));
    ObjectDefineProperties(globalThis, backgroundSyncDescriptors(false));
    container = createContainer(info.url, controller);
    defineWorkerNavigatorServiceWorker(WorkerNavigator, container);
  }
  const navigator = createWorkerNavigator();
  ObjectDefineProperties(globalThis, {
    console: consoleDescriptor(),
    fetch: nonEnumerable(fetch),
    close: nonEnumerable(close),
    WorkerGlobalScope: nonEnumerable(WorkerGlobalScope),
    WorkerNavigator: nonEnumerable(WorkerNavigator),
    WorkerLocation: locationModule.workerLocationConstructorDescriptor,
    location: locationModule.workerLocationDescriptor,
    navigator: { get: () => navigator, enumerable: true, configurable: true },
    name: { get: () => info.name, enumerable: true, configurable: true },
    isSecureContext: { get: () => info.secureContext, enumerable: true, configurable: true },
    ...extra,
  });
  if (info.type === "classic") {
    ObjectDefineProperty(globalThis, "importScripts", nonEnumerable(importScripts));
  }
  // Handle Fetch: a controlled worker's requests go to its service worker first.
  setControllerFetch(async (request, body) => {
    if (controller === null) return null;
    return await op_swrt_worker_fetch_event(request, body);
  });
  // Each global interface is exposed in its own kind of worker only.
  const scopeInterface = kind === "dedicated" ? DedicatedWorkerGlobalScope : SharedWorkerGlobalScope;
  ObjectDefineProperty(globalThis, scopeInterface.name, nonEnumerable(scopeInterface));
  const proto = scopeInterface.prototype;
  installGlobalScope(proto);
  installErrorReporting(WorkerGlobalScope.prototype);
  hideInternals();
  ObjectDefineProperty(globalThis, SymbolFor("swrt.workerStarted"), nonEnumerable(() => {
    delete globalThis[SymbolFor("swrt.workerStarted")];
    started = true;
    // HTML, run a worker: once the script ran, the client message queue of
    // the worker's ServiceWorkerContainer is enabled.
    if (container !== null) enableClientMessages(container);
    const waiting = held;
    held = [];
    for (const command of waiting) deliverToGlobal(command);
  }));
  runCommandLoop({
    workerMessage(command) {
      // From the owner (no sender), or from a worker this one created.
      if (command.from === null || command.from === undefined) deliverToGlobal(command);
      else ownerCommandHandlers.workerMessage(command);
    },
    workerError: ownerCommandHandlers.workerError,
    connect: deliverToGlobal,
    controller(command) {
      controller = command.controller;
      if (container !== null) onController(command.controller, command.clientId, info.clientId);
    },
    registration(command) {
      if (container !== null) onRegistration(command.registration);
    },
    message(command) {
      if (container !== null) onMessage(command.messageId, command.source, command.clientId, info.clientId);
      else takeMessage(command.messageId);
    },
  });
}

return { bootstrapWorkerScope, DedicatedWorkerGlobalScope, SharedWorkerGlobalScope };
})();

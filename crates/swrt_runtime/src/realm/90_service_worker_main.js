// Entry point of a service-worker realm: builds ServiceWorkerGlobalScope on
// the global object and runs the loop that receives the host's commands.
(function () {
const { core, primordials } = __bootstrap;
const {
  domException,
  event: eventModule,
  globalInterfaces,
  installGlobalScope,
  location: locationModule,
  messagePort,
  nonEnumerable,
  rejectionsAsPromise,
  webGlobalDescriptors,
  webidl,
  WorkerNavigator,
  createWorkerNavigator,
} = core.loadExtScript("ext:swrt/01_web_platform.js");
const { consoleDescriptor } = core.loadExtScript("ext:swrt/02_console.js");
const { cryptoDescriptors } = core.loadExtScript("ext:swrt/03_crypto.js");
const { fetch, setConnectSrcProvider } = core.loadExtScript("ext:swrt/10_fetch.js");
const { connectSrcOf } = core.loadExtScript("ext:swrt/05_content_security_policy.js");
const { dispatchTrusted, ExtendableEvent, ExtendableMessageEvent, extendableEventDescriptors, InstallEvent } =
  core.loadExtScript("ext:swrt/20_extendable_event.js");
const {
  registrationObject,
  setPostMessageHook,
  workerObject,
  serviceWorkerObjectDescriptors,
  skipWaiting,
  updateRegistration,
} = core.loadExtScript("ext:swrt/30_service_worker_objects.js");
const { clientObject, clients, clientsDescriptors } = core.loadExtScript("ext:swrt/40_clients.js");
const { containerDescriptors, createContainer, defineWorkerNavigatorServiceWorker, onRegistration } = core.loadExtScript(
  "ext:swrt/50_service_worker_container.js",
);
const { backgroundFetchDescriptors, createBackgroundFetchEvent, setCspProvider } = core.loadExtScript("ext:swrt/70_background_fetch.js");
const { backgroundSyncDescriptors, createSyncEvent } = core.loadExtScript("ext:swrt/72_background_sync.js");
const { cacheDescriptors, cachesAttribute } = core.loadExtScript("ext:swrt/71_cache.js");
const { createFetchEvent, fetchEventDescriptors } = core.loadExtScript("ext:swrt/41_fetch_event.js");

const { op_swrt_worker_info, op_swrt_import_scripts, op_swrt_take_message, op_swrt_sw_post_message } = core.ops;
const { hideInternals, installErrorReporting, runCommandLoop, runImportedScripts } = core.loadExtScript("ext:swrt/04_realm.js");
const { FunctionPrototypeCall, ObjectGetOwnPropertyDescriptor, ObjectGetOwnPropertyDescriptors, ObjectDefineProperties, ObjectDefineProperty, Symbol, SymbolFor, SymbolToStringTag, TypeError } = primordials;
const { WorkerGlobalScope } = globalInterfaces;
const { defineEventHandler } = eventModule;

const illegal = Symbol("illegal constructor");

class ServiceWorkerGlobalScope extends WorkerGlobalScope {
  constructor(key = undefined) {
    if (key !== illegal) throw new TypeError("Illegal constructor");
    // Never reached: the global object is not constructed, only re-prototyped.
    super();
  }
  get [SymbolToStringTag]() {
    return "ServiceWorkerGlobalScope";
  }
}
for (const name of ["error", "languagechange", "offline", "online", "rejectionhandled", "unhandledrejection"]) {
  defineEventHandler(WorkerGlobalScope.prototype, name);
}
// ServiceWorkerGlobalScope is a [Global] interface: its attributes are own
// properties of the global object, installed at bootstrap.
const SCOPE_EVENT_HANDLERS = [
  "install", "activate", "fetch", "message", "messageerror",
  "backgroundfetchsuccess", "backgroundfetchfail", "backgroundfetchabort", "backgroundfetchclick",
  "sync",
];

// Some articles and some real worker code spell the failure event
// "backgroundfetchfailure". swrt dispatches the standard name and routes
// listeners registered under that spelling to it, warning once.
let warnedFailureSpelling = false;
function standardType(type) {
  if (String(type) !== "backgroundfetchfailure") return type;
  if (!warnedFailureSpelling) {
    warnedFailureSpelling = true;
    globalThis.console.warn(
      "swrt: 'backgroundfetchfailure' is not a Background Fetch event; listening to 'backgroundfetchfail' instead.",
    );
  }
  return "backgroundfetchfail";
}
const EventTargetPrototype = eventModule.EventTarget.prototype;
const addEventListener = EventTargetPrototype.addEventListener;
const removeEventListener = EventTargetPrototype.removeEventListener;
ObjectDefineProperties(ServiceWorkerGlobalScope.prototype, {
  addEventListener: nonEnumerable(function (type, listener, options) {
    return FunctionPrototypeCall(addEventListener, this ?? globalThis, standardType(type), listener, options);
  }),
  removeEventListener: nonEnumerable(function (type, listener, options) {
    return FunctionPrototypeCall(removeEventListener, this ?? globalThis, standardType(type), listener, options);
  }),
  onbackgroundfetchfailure: {
    get() {
      return globalThis.onbackgroundfetchfail;
    },
    set(value) {
      standardType("backgroundfetchfailure");
      globalThis.onbackgroundfetchfail = value;
    },
    enumerable: false,
    configurable: true,
  },
});

/**
 * An event handler attribute of the global object. Its accessors run with
 * `this` undefined too (as `onfoo = f` in a script does), meaning the global.
 */
function defineGlobalEventHandler(type) {
  const scratch = {};
  defineEventHandler(scratch, type);
  const inner = ObjectGetOwnPropertyDescriptor(scratch, `on${type}`);
  const property = `on${type}`;
  const target = (self) => {
    const object = self ?? globalThis;
    if (object !== globalThis) throw new TypeError("Illegal invocation");
    return object;
  };
  const holder = {
    get [property]() {
      return FunctionPrototypeCall(inner.get, target(this));
    },
    set [property](value) {
      FunctionPrototypeCall(inner.set, target(this), value);
    },
  };
  ObjectDefineProperty(globalThis, property, {
    ...ObjectGetOwnPropertyDescriptor(holder, property),
    enumerable: true,
    configurable: true,
  });
}

const navigator = createWorkerNavigator();

/** `self`, as the ServiceWorkerGlobalScope's own members see it: an accessor
 * or operation of the global called on another object throws TypeError. */
function checkedGlobal(object) {
  if ((object ?? globalThis) !== globalThis) throw new TypeError("Illegal invocation");
}

/**
 * ServiceWorkerGlobalScope's attributes and operation. It is a [Global]
 * interface, so they are own properties of the global object, enumerable
 * as Web IDL says.
 */
function scopeMembers() {
  const members = {
    get clients() {
      checkedGlobal(this);
      return clients;
    },
    get registration() {
      checkedGlobal(this);
      return ownRegistration;
    },
    get serviceWorker() {
      checkedGlobal(this);
      return ownVersion;
    },
    skipWaiting() {
      return rejectionsAsPromise(() => {
        checkedGlobal(this);
        return skipWaiting();
      });
    },
  };
  const descriptors = ObjectGetOwnPropertyDescriptors(members);
  for (const name in descriptors) descriptors[name].enumerable = true;
  return descriptors;
}

let ownVersion = null;
let ownRegistration = null;

function importScripts(...urls) {
  runImportedScripts(op_swrt_import_scripts(urls.map((u) => String(u))));
}

function bootstrap() {
  delete globalThis[SymbolFor("swrt.bootstrap")];
  const info = op_swrt_worker_info();
  locationModule.setLocationHref(info.scriptUrl);
  // The worker's policies are the ones its script was served with.
  const connectSrc = connectSrcOf(info.csp);
  setConnectSrcProvider(() => connectSrc);
  setCspProvider(() => connectSrc);
  ObjectDefineProperties(globalThis, webGlobalDescriptors());
  ObjectDefineProperties(globalThis, cryptoDescriptors());
  ObjectDefineProperties(globalThis, extendableEventDescriptors());
  ObjectDefineProperties(globalThis, serviceWorkerObjectDescriptors());
  ObjectDefineProperties(globalThis, clientsDescriptors());
  ObjectDefineProperties(globalThis, backgroundFetchDescriptors(true));
  ObjectDefineProperties(globalThis, backgroundSyncDescriptors(true));
  ObjectDefineProperties(globalThis, cacheDescriptors());
  ObjectDefineProperty(WorkerGlobalScope.prototype, "caches", cachesAttribute(WorkerGlobalScope.prototype));
  ObjectDefineProperties(globalThis, fetchEventDescriptors());
  ObjectDefineProperties(globalThis, containerDescriptors());
  // WorkerNavigator.serviceWorker: the worker's own container. A service
  // worker is never controlled, so its controller is null.
  defineWorkerNavigatorServiceWorker(WorkerNavigator, createContainer(info.scriptUrl, null));
  ObjectDefineProperties(globalThis, {
    console: consoleDescriptor(),
    fetch: nonEnumerable(fetch),
    importScripts: nonEnumerable(importScripts),
    WorkerGlobalScope: nonEnumerable(WorkerGlobalScope),
    ServiceWorkerGlobalScope: nonEnumerable(ServiceWorkerGlobalScope),
    WorkerNavigator: nonEnumerable(WorkerNavigator),
    WorkerLocation: locationModule.workerLocationConstructorDescriptor,
    location: locationModule.workerLocationDescriptor,
    navigator: { get: () => navigator, enumerable: true, configurable: true },
    ...scopeMembers(),
    isSecureContext: { get: () => info.secureContext, enumerable: true, configurable: true },
  });
  installGlobalScope(ServiceWorkerGlobalScope.prototype);
  for (const name of SCOPE_EVENT_HANDLERS) defineGlobalEventHandler(name);
  installErrorReporting(WorkerGlobalScope.prototype);
  hideInternals();
  ownRegistration = registrationObject(info.registration);
  ownVersion = workerObject(info.version);
  setPostMessageHook(op_swrt_sw_post_message);
  commandLoop();
}
ObjectDefineProperty(globalThis, SymbolFor("swrt.bootstrap"), nonEnumerable(bootstrap));

// Asked by the host once, right after the script's evaluation: did it listen
// for fetch events? The symbol is removed after use.
ObjectDefineProperty(globalThis, SymbolFor("swrt.hasFetchHandler"), nonEnumerable(() => {
  delete globalThis[SymbolFor("swrt.hasFetchHandler")];
  return eventModule.listenerCount(globalThis, "fetch") > 0 || typeof globalThis.onfetch === "function";
}));

// A message from a page or a worker: its body and transferred ports wait in
// the mailbox.
function messageEvent(data) {
  let body = data?.data ?? null;
  let ports = [];
  if (data?.messageId !== undefined) {
    const taken = op_swrt_take_message(data.messageId);
    if (taken !== null) {
      const [value, transferables] = messagePort.deserializeJsMessageData(taken);
      body = value;
      ports = transferables.filter((t) => t instanceof messagePort.MessagePort);
    }
  }
  return new ExtendableMessageEvent("message", {
    data: body,
    origin: data?.origin ?? "",
    source: data?.source ? clientObject(data.source) : data?.sourceWorker ? workerObject(data.sourceWorker) : null,
    ports,
  });
}

function createEvent(type, data) {
  if (type.startsWith("backgroundfetch")) {
    return createBackgroundFetchEvent(type, data, ownRegistration.scope);
  }
  switch (type) {
    case "fetch":
      return createFetchEvent(data);
    case "message":
      return messageEvent(data);
    case "sync":
      return createSyncEvent(data);
    case "install":
      return new InstallEvent(type);
    default:
      return new ExtendableEvent(type);
  }
}

function commandLoop() {
  runCommandLoop({
    dispatch(command) {
      dispatchTrusted(command.eventId, createEvent(command.eventType, command.data));
    },
    registration(command) {
      updateRegistration(command.registration);
      onRegistration(command.registration);
    },
  });
}

void domException;
void webidl;
})();

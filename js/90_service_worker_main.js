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
  nonEnumerable,
  webGlobalDescriptors,
  webidl,
} = core.loadExtScript("ext:swrt/01_web_platform.js");
const { consoleDescriptor } = core.loadExtScript("ext:swrt/02_console.js");
const { cryptoDescriptors } = core.loadExtScript("ext:swrt/03_crypto.js");
const { fetch } = core.loadExtScript("ext:swrt/10_fetch.js");
const { dispatchTrusted, ExtendableEvent, ExtendableMessageEvent, extendableEventDescriptors } = core.loadExtScript("ext:swrt/20_extendable_event.js");
const {
  createRegistration,
  currentRegistration,
  ownWorker,
  serviceWorkerObjectDescriptors,
  skipWaiting,
  updateRegistration,
} = core.loadExtScript("ext:swrt/30_service_worker_objects.js");
const { clients, clientsDescriptors } = core.loadExtScript("ext:swrt/40_clients.js");

const { op_swrt_worker_info, op_swrt_next_command, op_swrt_import_scripts, op_swrt_report_uncaught, op_swrt_event_settled } = core.ops;
const { FunctionPrototypeCall, ObjectPrototypeIsPrototypeOf, ObjectDefineProperties, ObjectDefineProperty, Symbol, SymbolFor, SymbolToStringTag, TypeError } = primordials;
const { WorkerGlobalScope } = globalInterfaces;
const { defineEventHandler, MessageEvent } = eventModule;

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
for (const name of ["install", "activate", "fetch", "message", "messageerror"]) {
  defineEventHandler(ServiceWorkerGlobalScope.prototype, name);
}

function describeError(error) {
  try {
    if (error !== null && typeof error === "object" && "message" in error) {
      return { message: `${error.name ?? "Error"}: ${error.message}`, stack: typeof error.stack === "string" ? error.stack : null };
    }
    return { message: String(error), stack: null };
  } catch {
    return { message: "exception", stack: null };
  }
}

// HTML "report the exception": deno_web dispatches an ErrorEvent on the
// global and, unless a listener canceled it, terminates the isolate as Deno
// does for uncaught errors. A service worker must survive its listeners'
// errors, so the global's dispatchEvent reports those to the host instead and
// tells deno_web the event was handled.
const EventTargetDispatch = eventModule.EventTarget.prototype.dispatchEvent;
const ErrorEventPrototype = eventModule.ErrorEvent.prototype;
function globalDispatchEvent(event) {
  const notCanceled = FunctionPrototypeCall(EventTargetDispatch, this ?? globalThis, event);
  if (
    (this === globalThis || this == null) && event.type === "error" &&
    ObjectPrototypeIsPrototypeOf(ErrorEventPrototype, event) && !event.isTrusted
  ) {
    if (notCanceled) {
      const { message, stack } = describeError(event.error ?? event.message);
      const location = event.filename ? `${event.filename}:${event.lineno}:${event.colno}` : null;
      op_swrt_report_uncaught(`Uncaught ${message}`, stack, location);
    }
    return false;
  }
  return notCanceled;
}

// Unhandled rejections: fire `unhandledrejection`; report what stays unhandled.
function onUnhandledRejection(promise, reason) {
  const event = new eventModule.PromiseRejectionEvent("unhandledrejection", { cancelable: true, promise, reason });
  if (globalThis.dispatchEvent(event)) {
    const { message, stack } = describeError(reason);
    op_swrt_report_uncaught(`Uncaught (in promise) ${message}`, stack, null);
  }
  return true;
}

class WorkerNavigator {
  constructor(key = undefined) {
    if (key !== illegal) throw new TypeError("Illegal constructor");
  }
  get userAgent() { return "swrt/0.1"; }
  get language() { return "en-US"; }
  get languages() { return ["en-US"]; }
  get onLine() { return true; }
  get hardwareConcurrency() { return 2; }
  get [SymbolToStringTag]() { return "WorkerNavigator"; }
}
const navigator = new WorkerNavigator(illegal);

let ownVersion = null;

function importScripts(...urls) {
  const sources = op_swrt_import_scripts(urls.map((u) => String(u)));
  for (const [url, source] of sources) {
    // Classic scripts run in the global scope, in order, with their own URL
    // in stack traces.
    const [, error] = core.evalContext(source, url);
    if (error) throw error.thrown;
  }
}

function bootstrap() {
  delete globalThis[SymbolFor("swrt.bootstrap")];
  const info = op_swrt_worker_info();
  locationModule.setLocationHref(info.scriptUrl);
  ObjectDefineProperties(globalThis, webGlobalDescriptors());
  ObjectDefineProperties(globalThis, cryptoDescriptors());
  ObjectDefineProperties(globalThis, extendableEventDescriptors());
  ObjectDefineProperties(globalThis, serviceWorkerObjectDescriptors());
  ObjectDefineProperties(globalThis, clientsDescriptors());
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
    clients: { get: () => clients, enumerable: true, configurable: true },
    registration: { get: () => currentRegistration(), enumerable: true, configurable: true },
    serviceWorker: { get: () => ownVersion, enumerable: true, configurable: true },
    skipWaiting: nonEnumerable(() => skipWaiting()),
  });
  installGlobalScope(ServiceWorkerGlobalScope.prototype);
  ObjectDefineProperty(WorkerGlobalScope.prototype, "dispatchEvent", nonEnumerable(globalDispatchEvent));
  core.setReportExceptionCallback(eventModule.reportException);
  core.setUnhandledPromiseRejectionHandler(onUnhandledRejection);
  // Runtime internals are not part of the web platform.
  delete globalThis.__bootstrap;
  delete globalThis.Deno;
  createRegistration(info.registration);
  ownVersion = ownWorker(info.version);
  commandLoop();
}
ObjectDefineProperty(globalThis, SymbolFor("swrt.bootstrap"), nonEnumerable(bootstrap));

function createEvent(type, data) {
  switch (type) {
    case "message":
      return new ExtendableMessageEvent("message", { data: data?.data ?? null, origin: data?.origin ?? "" });
    default:
      return new ExtendableEvent(type);
  }
}

async function commandLoop() {
  for (;;) {
    const command = await op_swrt_next_command();
    if (command === null) return;
    try {
      switch (command.kind) {
        case "dispatch":
          dispatchTrusted(command.eventId, createEvent(command.eventType, command.data));
          break;
        case "registration":
          try {
            updateRegistration(command.registration);
          } finally {
            op_swrt_event_settled(command.ackId, { status: "completed" });
          }
          break;
      }
    } catch (error) {
      // Never let one bad command stop the loop; report like an uncaught error.
      eventModule.reportException(error);
    }
  }
}

void domException;
void webidl;
})();

// ServiceWorkerContainer (navigator.serviceWorker) of a page realm
// (Service Workers section 3.4), over ops that ask the host.
(function () {
const { core, primordials } = __bootstrap;
const { domException, event: eventModule, messagePort, webidl } = core.loadExtScript("ext:swrt/01_web_platform.js");
const { existingRegistration, registrationObject, setPostMessageHook, workerObject } = core.loadExtScript(
  "ext:swrt/30_service_worker_objects.js",
);
const { op_swrt_sw_register, op_swrt_sw_register_seen, op_swrt_sw_registrations, op_swrt_sw_post_message, op_swrt_take_message } = core.ops;
const { Symbol, SymbolToStringTag, TypeError, Promise, ArrayPrototypeMap, ArrayPrototypePush, ArrayPrototypeShift } =
  primordials;
const { EventTarget, Event, MessageEvent, defineEventHandler, setEventTargetData } = eventModule;
const { DOMException } = domException;

const illegal = Symbol("illegal constructor");
const _controller = Symbol("controller");
const _ready = Symbol("ready");
const _resolveReady = Symbol("resolve ready");
const _messagesEnabled = Symbol("client message queue enabled");
const _queue = Symbol("queued messages");
const _onmessage = Symbol("onmessage");

let pageUrl = "";

webidl.converters.WorkerType = webidl.createEnumConverter("WorkerType", ["classic", "module"]);
webidl.converters.ServiceWorkerUpdateViaCache = webidl.createEnumConverter("ServiceWorkerUpdateViaCache", [
  "imports",
  "all",
  "none",
]);
// updateViaCache is validated; swrt keeps no HTTP cache for scripts, so every
// value behaves as "none" (each update fetches from the network).
webidl.converters.RegistrationOptions = webidl.createDictionaryConverter("RegistrationOptions", [
  { key: "scope", converter: webidl.converters.USVString },
  { key: "type", converter: webidl.converters.WorkerType, defaultValue: "classic" },
  { key: "updateViaCache", converter: webidl.converters.ServiceWorkerUpdateViaCache, defaultValue: "imports" },
]);

function scopeMatches(scope, url) {
  return url.startsWith(scope);
}

class ServiceWorkerContainer extends EventTarget {
  constructor(key = undefined, controllerView) {
    if (key !== illegal) throw new TypeError("Illegal constructor");
    super();
    setEventTargetData(this);
    this[webidl.brand] = webidl.brand;
    this[_controller] = controllerView;
    this[_messagesEnabled] = false;
    this[_queue] = [];
    this[_onmessage] = null;
    this[_ready] = new Promise((resolve) => {
      this[_resolveReady] = resolve;
    });
  }

  get controller() {
    webidl.assertBranded(this, ServiceWorkerContainerPrototype);
    return workerObject(this[_controller]);
  }

  get ready() {
    webidl.assertBranded(this, ServiceWorkerContainerPrototype);
    return this[_ready];
  }

  async register(scriptURL, options = undefined) {
    webidl.assertBranded(this, ServiceWorkerContainerPrototype);
    const prefix = "Failed to execute 'register' on 'ServiceWorkerContainer'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    scriptURL = webidl.converters.USVString(scriptURL, prefix, "Argument 1");
    options = webidl.converters.RegistrationOptions(options, prefix, "Argument 2");
    const scope = options.scope === undefined ? null : options.scope;
    const { registration: view, ackId } = await op_swrt_sw_register(scriptURL, scope, options.type);
    const registration = registrationObject(view);
    this.#checkReady(view);
    // State changes are tasks queued after the job promise resolved: tell the
    // host once the caller's continuation has had its turn.
    setTimeout(() => op_swrt_sw_register_seen(ackId), 0);
    return registration;
  }

  async getRegistration(clientURL = "") {
    webidl.assertBranded(this, ServiceWorkerContainerPrototype);
    const url = new URL(clientURL, pageUrl).href;
    const all = await op_swrt_sw_registrations();
    let best = null;
    for (const view of all) {
      if (scopeMatches(view.scope, url) && (best === null || view.scope.length > best.scope.length)) best = view;
    }
    return best === null ? undefined : registrationObject(best);
  }

  async getRegistrations() {
    webidl.assertBranded(this, ServiceWorkerContainerPrototype);
    const all = await op_swrt_sw_registrations();
    return ArrayPrototypeMap(all, registrationObject);
  }

  startMessages() {
    webidl.assertBranded(this, ServiceWorkerContainerPrototype);
    this.#enableMessages();
  }

  get onmessage() {
    webidl.assertBranded(this, ServiceWorkerContainerPrototype);
    return this[_onmessage];
  }

  set onmessage(value) {
    webidl.assertBranded(this, ServiceWorkerContainerPrototype);
    if (this[_onmessage]) this.removeEventListener("message", this[_onmessage]);
    this[_onmessage] = typeof value === "function" ? value : null;
    if (this[_onmessage]) this.addEventListener("message", this[_onmessage]);
    // Setting onmessage enables the client message queue (section 3.4.7).
    this.#enableMessages();
  }

  #enableMessages() {
    if (this[_messagesEnabled]) return;
    this[_messagesEnabled] = true;
    queueMicrotask(() => {
      while (this[_queue].length > 0) this.dispatchEvent(ArrayPrototypeShift(this[_queue]));
    });
  }

  #checkReady(view) {
    if (view.active && scopeMatches(view.scope, pageUrl)) {
      this[_resolveReady](registrationObject(view));
    }
  }

  get [SymbolToStringTag]() {
    return "ServiceWorkerContainer";
  }
}
const ServiceWorkerContainerPrototype = ServiceWorkerContainer.prototype;
defineEventHandler(ServiceWorkerContainer.prototype, "controllerchange");
defineEventHandler(ServiceWorkerContainer.prototype, "messageerror");

let container = null;

/** HTML "the end": a window's client message queue starts with the document. */
function enableClientMessages() {
  container.startMessages();
}

function createContainer(url, controllerView) {
  pageUrl = url;
  container = new ServiceWorkerContainer(illegal, controllerView);
  setPostMessageHook(op_swrt_sw_post_message);
  return container;
}

/** A registration snapshot arrived from the host. */
function onRegistration(view) {
  if (existingRegistration(view)) registrationObject(view);
  if (view.active && scopeMatches(view.scope, pageUrl)) {
    container[_resolveReady](registrationObject(view));
  }
}

/** clients.claim() made `view` this page's controller. */
function onController(view) {
  container[_controller] = view;
  container.dispatchEvent(new Event("controllerchange"));
}

/** A service worker posted a message to this page. */
function onMessage(messageId, source) {
  let event;
  try {
    const taken = op_swrt_take_message(messageId);
    const [data, transferables] = messagePort.deserializeJsMessageData(taken);
    const ports = transferables.filter((t) => t instanceof messagePort.MessagePort);
    event = new MessageEvent("message", { data, origin: new URL(source.scriptUrl).origin, source: workerObject(source), ports });
  } catch {
    event = new MessageEvent("messageerror", { origin: new URL(source.scriptUrl).origin, source: workerObject(source) });
  }
  if (container[_messagesEnabled]) container.dispatchEvent(event);
  else ArrayPrototypePush(container[_queue], event);
}

function containerDescriptors() {
  return {
    ServiceWorkerContainer: { value: ServiceWorkerContainer, writable: true, enumerable: false, configurable: true },
  };
}

void DOMException;

return { containerDescriptors, createContainer, enableClientMessages, onController, onMessage, onRegistration };
})();

// ServiceWorkerContainer (navigator.serviceWorker) of a page or service
// worker realm (Service Workers section 3.4), over ops that ask the host. A
// page has one container and each of its frames another, keyed by client
// id; a service worker has one of its own.
(function () {
const { core, primordials } = __bootstrap;
const { defineBrandedEventHandler, domException, event: eventModule, messagePort, rejectionsAsPromise, webidl } =
  core.loadExtScript("ext:swrt/01_web_platform.js");
const { createEnvironment, realmEnvironment, setPostMessageHook } = core.loadExtScript(
  "ext:swrt/30_service_worker_objects.js",
);
const { op_swrt_sw_register, op_swrt_sw_register_seen, op_swrt_sw_registrations, op_swrt_sw_post_message, op_swrt_take_message } = core.ops;
const {
  Symbol,
  TypeError,
  Promise,
  ArrayPrototypeMap,
  ArrayPrototypePush,
  ArrayPrototypeShift,
  ObjectDefineProperty,
  ObjectGetOwnPropertyDescriptor,
  ObjectPrototypeIsPrototypeOf,
} = primordials;
const { EventTarget, Event, MessageEvent, setEventTargetData } = eventModule;
const { DOMException } = domException;

const illegal = Symbol("illegal constructor");
const _controller = Symbol("controller");
const _ready = Symbol("ready");
const _resolveReady = Symbol("resolve ready");
const _readySettled = Symbol("ready settled");
const _checkReady = Symbol("check ready");
const _messagesEnabled = Symbol("client message queue enabled");
const _queue = Symbol("queued messages");
const _onmessage = Symbol("onmessage");
const _client = Symbol("client");

webidl.converters.WorkerType = webidl.createEnumConverter("WorkerType", ["classic", "module"]);
webidl.converters.ServiceWorkerUpdateViaCache = webidl.createEnumConverter("ServiceWorkerUpdateViaCache", [
  "imports",
  "all",
  "none",
]);
webidl.converters.RegistrationOptions = webidl.createDictionaryConverter("RegistrationOptions", [
  { key: "scope", converter: webidl.converters.USVString },
  { key: "type", converter: webidl.converters.WorkerType, defaultValue: "classic" },
  { key: "updateViaCache", converter: webidl.converters.ServiceWorkerUpdateViaCache, defaultValue: "imports" },
]);

function scopeMatches(scope, url) {
  return url.startsWith(scope);
}

class ServiceWorkerContainer extends EventTarget {
  constructor(key = undefined, controllerView, client) {
    if (key !== illegal) throw new TypeError("Illegal constructor");
    super();
    setEventTargetData(this);
    this[webidl.brand] = webidl.brand;
    // { id, url, env }: the client this container belongs to.
    this[_client] = client;
    this[_controller] = controllerView;
    this[_messagesEnabled] = false;
    this[_queue] = [];
    this[_onmessage] = null;
    this[_readySettled] = false;
    this[_ready] = new Promise((resolve) => {
      this[_resolveReady] = (registration) => {
        this[_readySettled] = true;
        resolve(registration);
      };
    });
  }

  get controller() {
    webidl.assertBranded(this, ServiceWorkerContainerPrototype);
    return this[_client].env.workerObject(this[_controller]);
  }

  get ready() {
    return rejectionsAsPromise(() => {
      webidl.assertBranded(this, ServiceWorkerContainerPrototype);
      // ready: while the promise is pending, look for the matching
      // registration; if it has an active worker, resolve with it.
      if (!this[_readySettled]) this[_checkReady]();
      return this[_ready];
    });
  }

  async register(scriptURL, options = undefined) {
    webidl.assertBranded(this, ServiceWorkerContainerPrototype);
    const prefix = "Failed to execute 'register' on 'ServiceWorkerContainer'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    scriptURL = webidl.converters.USVString(scriptURL, prefix, "Argument 1");
    options = webidl.converters.RegistrationOptions(options, prefix, "Argument 2");
    const scope = options.scope === undefined ? null : options.scope;
    const { registration: view, ackId } = await op_swrt_sw_register(
      scriptURL,
      scope,
      options.type,
      options.updateViaCache,
      this[_client].id,
    );
    const registration = this[_client].env.registrationObject(view);
    if (view.active && scopeMatches(view.scope, this[_client].url)) this[_checkReady]();
    // State changes are tasks queued after the job promise resolved: tell the
    // host once the caller's continuation has had its turn.
    setTimeout(() => op_swrt_sw_register_seen(ackId), 0);
    return registration;
  }

  async getRegistration(clientURL = "") {
    webidl.assertBranded(this, ServiceWorkerContainerPrototype);
    const url = new URL(clientURL, this[_client].url).href;
    const all = await op_swrt_sw_registrations(this[_client].id);
    let best = null;
    for (const view of all) {
      if (scopeMatches(view.scope, url) && (best === null || view.scope.length > best.scope.length)) best = view;
    }
    return best === null ? undefined : this[_client].env.registrationObject(best);
  }

  async getRegistrations() {
    webidl.assertBranded(this, ServiceWorkerContainerPrototype);
    const all = await op_swrt_sw_registrations(this[_client].id);
    return ArrayPrototypeMap(all, (view) => this[_client].env.registrationObject(view));
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

  /**
   * Resolves `ready` with "Match Service Worker Registration" for the
   * client's URL (the longest matching scope among the registrations not
   * unregistered) when that registration has an active worker.
   */
  async [_checkReady]() {
    if (this[_readySettled]) return;
    const all = await op_swrt_sw_registrations(this[_client].id);
    const url = this[_client].url;
    let best = null;
    for (const view of all) {
      if (scopeMatches(view.scope, url) && (best === null || view.scope.length > best.scope.length)) best = view;
    }
    if (best !== null && best.active && !this[_readySettled]) {
      this[_resolveReady](this[_client].env.registrationObject(best));
    }
  }
}
webidl.configureInterface(ServiceWorkerContainer);
const ServiceWorkerContainerPrototype = ServiceWorkerContainer.prototype;
defineBrandedEventHandler(ServiceWorkerContainer.prototype, "controllerchange");
defineBrandedEventHandler(ServiceWorkerContainer.prototype, "messageerror");

// The containers of the realm's page and frames, by client id.
const containers = new Map();

/** HTML "the end": a window's client message queue starts with the document. */
function enableClientMessages(container) {
  container.startMessages();
}

/**
 * The container of client `clientId` at `url`. The page's own container
 * uses the realm's environment; a frame's gets one of its own, whose
 * ServiceWorker objects post as the frame.
 */
function createContainer(url, controllerView, clientId = null) {
  let env = realmEnvironment;
  if (clientId === null) {
    setPostMessageHook((id, data) => op_swrt_sw_post_message(id, data, null));
  } else {
    env = createEnvironment((id, data) => op_swrt_sw_post_message(id, data, clientId));
  }
  const container = new ServiceWorkerContainer(illegal, controllerView, { id: clientId, url, env });
  containers.set(clientId, container);
  return container;
}

/** A frame's client ended. */
function removeContainer(clientId) {
  containers.delete(clientId);
}

function containerFor(clientId, pageClientId) {
  return containers.get(clientId === pageClientId ? null : clientId) ?? null;
}

/** A registration snapshot arrived from the host: every container sees it. */
function onRegistration(view) {
  for (const container of containers.values()) {
    const { env, url } = container[_client];
    if (env.existingRegistration(view)) env.registrationObject(view);
    // Update Registration State: a new active worker may settle `ready`.
    if (view.active && !container[_readySettled] && scopeMatches(view.scope, url)) container[_checkReady]();
  }
}

/** clients.claim() made `view` the controller of a page or frame. */
function onController(view, clientId, pageClientId) {
  const container = containerFor(clientId, pageClientId);
  if (container === null) return;
  container[_controller] = view;
  container.dispatchEvent(new Event("controllerchange"));
}

/** A service worker posted a message to a page or frame. */
function onMessage(messageId, source, clientId, pageClientId) {
  const container = containerFor(clientId, pageClientId);
  if (container === null) return;
  const { env } = container[_client];
  let event;
  try {
    const taken = op_swrt_take_message(messageId);
    const [data, transferables] = messagePort.deserializeJsMessageData(taken);
    const ports = transferables.filter((t) => t instanceof messagePort.MessagePort);
    event = new MessageEvent("message", { data, origin: new URL(source.scriptUrl).origin, source: env.workerObject(source), ports });
  } catch {
    event = new MessageEvent("messageerror", { origin: new URL(source.scriptUrl).origin, source: env.workerObject(source) });
  }
  if (container[_messagesEnabled]) container.dispatchEvent(event);
  else ArrayPrototypePush(container[_queue], event);
}

function containerDescriptors() {
  return {
    ServiceWorkerContainer: { value: ServiceWorkerContainer, writable: true, enumerable: false, configurable: true },
  };
}

/**
 * `WorkerNavigator.serviceWorker` ([SameObject]): `container`, on the
 * prototype as Web IDL puts an attribute, with a getter that checks its
 * receiver.
 */
function defineWorkerNavigatorServiceWorker(WorkerNavigator, container) {
  const members = {
    get serviceWorker() {
      if (!ObjectPrototypeIsPrototypeOf(WorkerNavigator.prototype, this)) throw new TypeError("Illegal invocation");
      return container;
    },
  };
  ObjectDefineProperty(WorkerNavigator.prototype, "serviceWorker", {
    ...ObjectGetOwnPropertyDescriptor(members, "serviceWorker"),
    enumerable: true,
    configurable: true,
  });
}

void DOMException;

return { containerDescriptors, createContainer, defineWorkerNavigatorServiceWorker, enableClientMessages, onController, onMessage, onRegistration, removeContainer };
})();

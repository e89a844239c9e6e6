// ServiceWorker and ServiceWorkerRegistration (Service Workers section 3.1, 3.2),
// shared by worker and page realms. The host pushes registration snapshots;
// objects are kept per version id and per registration so identity holds,
// once per environment: a worker or page has one, and each frame of a page
// has its own (its objects post messages as the frame's client).
(function () {
const { core, primordials } = __bootstrap;
const { defineBrandedEventHandler, event: eventModule, messagePort, webidl } = core.loadExtScript(
  "ext:swrt/01_web_platform.js",
);

const { op_swrt_navigation_preload, op_swrt_skip_waiting, op_swrt_sw_update, op_swrt_sw_unregister } = core.ops;
const { Symbol, TypeError, MapPrototypeGet, MapPrototypeSet, SafeMap } = primordials;
const { EventTarget, Event, setEventTargetData } = eventModule;

const illegal = Symbol("illegal constructor");
const _id = Symbol("version id");
const _scriptURL = Symbol("script url");
const _state = Symbol("state");
const _reg = Symbol("registration data");
const _env = Symbol("environment");
const _preload = Symbol("navigation preload manager");
const _scope = Symbol("scope");

class ServiceWorker extends EventTarget {
  constructor(key = undefined, id, scriptURL, state, env) {
    if (key !== illegal) throw new TypeError("Illegal constructor");
    super();
    setEventTargetData(this);
    this[webidl.brand] = webidl.brand;
    this[_env] = env;
    this[_id] = id;
    this[_scriptURL] = scriptURL;
    this[_state] = state;
  }
  get scriptURL() {
    webidl.assertBranded(this, ServiceWorkerPrototype);
    return this[_scriptURL];
  }
  get state() {
    webidl.assertBranded(this, ServiceWorkerPrototype);
    return this[_state];
  }
  postMessage(message, transfer = undefined) {
    webidl.assertBranded(this, ServiceWorkerPrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'postMessage' on 'ServiceWorker'");
    const transferList = Array.isArray(transfer) ? transfer : (transfer?.transfer ?? []);
    const data = messagePort.serializeJsMessageData(message, transferList);
    // Service Workers postMessage step: if state is "redundant", return.
    if (this[_state] === "redundant") return;
    this[_env].postMessage(this[_id], data);
  }
}
webidl.configureInterface(ServiceWorker);
const ServiceWorkerPrototype = ServiceWorker.prototype;
defineBrandedEventHandler(ServiceWorker.prototype, "statechange");
defineBrandedEventHandler(ServiceWorker.prototype, "error");


// NavigationPreloadManager (Service Workers section 3.3): the navigation
// preload state is kept by the host, per registration.
class NavigationPreloadManager {
  constructor(key = undefined, scope) {
    if (key !== illegal) throw new TypeError("Illegal constructor");
    this[webidl.brand] = webidl.brand;
    this[_scope] = scope;
  }
  async enable() {
    webidl.assertBranded(this, NavigationPreloadManagerPrototype);
    await op_swrt_navigation_preload(this[_scope], "enable", null);
  }
  async disable() {
    webidl.assertBranded(this, NavigationPreloadManagerPrototype);
    await op_swrt_navigation_preload(this[_scope], "disable", null);
  }
  async setHeaderValue(value) {
    webidl.assertBranded(this, NavigationPreloadManagerPrototype);
    const prefix = "Failed to execute 'setHeaderValue' on 'NavigationPreloadManager'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    value = webidl.converters.ByteString(value, prefix, "Argument 1");
    // A header value has no leading or trailing whitespace, NUL, CR or LF.
    if (/^[\t ]|[\t ]$|[\0\r\n]/.test(value)) {
      throw new TypeError(`${prefix}: '${value}' is not a valid header value.`);
    }
    await op_swrt_navigation_preload(this[_scope], "setHeaderValue", value);
  }
  async getState() {
    webidl.assertBranded(this, NavigationPreloadManagerPrototype);
    const state = await op_swrt_navigation_preload(this[_scope], "getState", null);
    return { enabled: state.enabled, headerValue: state.headerValue };
  }
}
webidl.configureInterface(NavigationPreloadManager);
const NavigationPreloadManagerPrototype = NavigationPreloadManager.prototype;

class ServiceWorkerRegistration extends EventTarget {
  constructor(key = undefined, data, env) {
    if (key !== illegal) throw new TypeError("Illegal constructor");
    super();
    setEventTargetData(this);
    this[webidl.brand] = webidl.brand;
    this[_env] = env;
    this[_reg] = data;
    this[_preload] = new NavigationPreloadManager(illegal, data.scope);
  }
  get scope() {
    webidl.assertBranded(this, ServiceWorkerRegistrationPrototype);
    return this[_reg].scope;
  }
  get installing() {
    webidl.assertBranded(this, ServiceWorkerRegistrationPrototype);
    return this[_env].workerObject(this[_reg].installing);
  }
  get waiting() {
    webidl.assertBranded(this, ServiceWorkerRegistrationPrototype);
    return this[_env].workerObject(this[_reg].waiting);
  }
  get active() {
    webidl.assertBranded(this, ServiceWorkerRegistrationPrototype);
    return this[_env].workerObject(this[_reg].active);
  }
  get navigationPreload() {
    webidl.assertBranded(this, ServiceWorkerRegistrationPrototype);
    return this[_preload];
  }
  get updateViaCache() {
    webidl.assertBranded(this, ServiceWorkerRegistrationPrototype);
    return this[_reg].updateViaCache;
  }
  async update() {
    webidl.assertBranded(this, ServiceWorkerRegistrationPrototype);
    const view = await op_swrt_sw_update(this[_reg].scope);
    this[_env].updateRegistration(view);
    return this;
  }
  async unregister() {
    webidl.assertBranded(this, ServiceWorkerRegistrationPrototype);
    return await op_swrt_sw_unregister(this[_reg].scope);
  }
}
webidl.configureInterface(ServiceWorkerRegistration);
const ServiceWorkerRegistrationPrototype = ServiceWorkerRegistration.prototype;
defineBrandedEventHandler(ServiceWorkerRegistration.prototype, "updatefound");

/**
 * The ServiceWorker and ServiceWorkerRegistration objects of one
 * environment (a worker, a page, or one of its frames). `postMessage(id,
 * data)` is how its ServiceWorker objects reach the host.
 */
function createEnvironment(postMessage) {
  const env = { postMessage };
  const workers = new SafeMap();
  // By registration id: a scope registered again after unregister() is a new
  // registration with a new object; the old object keeps the old registration.
  const registrations = new SafeMap();

  env.workerObject = (view) => {
    if (view === null || view === undefined) return null;
    let worker = MapPrototypeGet(workers, view.id);
    if (worker === undefined) {
      worker = new ServiceWorker(illegal, view.id, view.scriptUrl, view.state, env);
      MapPrototypeSet(workers, view.id, worker);
    }
    return worker;
  };

  /** The registration object for `view.id` (one per registration per environment). */
  env.registrationObject = (view) => {
    let registration = MapPrototypeGet(registrations, view.id);
    if (registration === undefined) {
      registration = new ServiceWorkerRegistration(illegal, view, env);
      MapPrototypeSet(registrations, view.id, registration);
      for (const key of ["installing", "waiting", "active"]) env.workerObject(view[key]);
    } else {
      env.updateRegistration(view);
    }
    return registration;
  };

  /** Applies a new snapshot: fires `updatefound` and `statechange` where things moved. */
  env.updateRegistration = (data) => {
    const registration = MapPrototypeGet(registrations, data.id);
    // A job's reply can arrive after later state pushes: keep the newer state.
    if (registration && data.generation < registration[_reg].generation) return;
    const before = registration ? registration[_reg] : { installing: null, waiting: null, active: null };
    if (registration) registration[_reg] = data;
    const seen = new SafeMap();
    for (const key of ["installing", "waiting", "active"]) {
      const view = data[key];
      if (view) MapPrototypeSet(seen, view.id, view);
    }
    for (const key of ["installing", "waiting", "active"]) {
      const old = before[key];
      if (old && MapPrototypeGet(seen, old.id) === undefined) {
        MapPrototypeSet(seen, old.id, { ...old, state: "redundant" });
      }
    }
    if (registration && data.installing && data.installing.id !== before.installing?.id) {
      registration.dispatchEvent(new Event("updatefound"));
    }
    for (const view of seen.values()) {
      const worker = MapPrototypeGet(workers, view.id);
      if (worker !== undefined && worker[_state] !== view.state) {
        worker[_state] = view.state;
        worker.dispatchEvent(new Event("statechange"));
      }
    }
  };

  env.existingRegistration = (view) => MapPrototypeGet(registrations, view.id);
  return env;
}

// The realm's own environment; its postMessage is set by the realm's main script.
const realmEnvironment = createEnvironment(null);
const workerObject = (view) => realmEnvironment.workerObject(view);
const registrationObject = (view) => realmEnvironment.registrationObject(view);
const updateRegistration = (view) => realmEnvironment.updateRegistration(view);
const existingRegistration = (view) => realmEnvironment.existingRegistration(view);

async function skipWaiting() {
  await op_swrt_skip_waiting();
}

function setPostMessageHook(postMessage) {
  realmEnvironment.postMessage = postMessage;
}

function serviceWorkerObjectDescriptors() {
  const d = (value) => ({ value, writable: true, enumerable: false, configurable: true });
  return {
    ServiceWorker: d(ServiceWorker),
    ServiceWorkerRegistration: d(ServiceWorkerRegistration),
    NavigationPreloadManager: d(NavigationPreloadManager),
  };
}

return {
  NavigationPreloadManager,
  ServiceWorker,
  ServiceWorkerRegistration,
  createEnvironment,
  existingRegistration,
  realmEnvironment,
  registrationObject,
  serviceWorkerObjectDescriptors,
  setPostMessageHook,
  skipWaiting,
  updateRegistration,
  workerObject,
};
})();

// ServiceWorker and ServiceWorkerRegistration: a service worker sees them
// (Service Workers section 3.1, section 3.2). The host pushes state; objects are kept per
// version id so identity holds ([SameObject]-like behaviour).
(function () {
const { core, primordials } = __bootstrap;
const { domException, event: eventModule, webidl } = core.loadExtScript("ext:swrt/01_web_platform.js");

const { op_swrt_skip_waiting } = core.ops;
const { Symbol, SymbolToStringTag, TypeError, MapPrototypeGet, MapPrototypeSet, SafeMap } = primordials;
const { EventTarget, Event, defineEventHandler, setEventTargetData } = eventModule;
const { DOMException } = domException;

const illegal = Symbol("illegal constructor");
const _id = Symbol("version id");
const _scriptURL = Symbol("script url");
const _state = Symbol("state");
const _reg = Symbol("registration data");

class ServiceWorker extends EventTarget {
  constructor(key = undefined, id, scriptURL, state) {
    if (key !== illegal) throw new TypeError("Illegal constructor");
    super();
    setEventTargetData(this);
    this[webidl.brand] = webidl.brand;
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
  postMessage(_message, _transfer) {
    webidl.assertBranded(this, ServiceWorkerPrototype);
    throw new DOMException("Posting messages between service workers is not supported by swrt", "NotSupportedError");
  }
  get [SymbolToStringTag]() {
    return "ServiceWorker";
  }
}
const ServiceWorkerPrototype = ServiceWorker.prototype;
defineEventHandler(ServiceWorker.prototype, "statechange");
defineEventHandler(ServiceWorker.prototype, "error");

const workers = new SafeMap();

function workerObject(view) {
  if (view === null || view === undefined) return null;
  let worker = MapPrototypeGet(workers, view.id);
  if (worker === undefined) {
    worker = new ServiceWorker(illegal, view.id, view.scriptUrl, view.state);
    MapPrototypeSet(workers, view.id, worker);
  }
  return worker;
}

class ServiceWorkerRegistration extends EventTarget {
  constructor(key = undefined, data) {
    if (key !== illegal) throw new TypeError("Illegal constructor");
    super();
    setEventTargetData(this);
    this[webidl.brand] = webidl.brand;
    this[_reg] = data;
  }
  get scope() {
    webidl.assertBranded(this, ServiceWorkerRegistrationPrototype);
    return this[_reg].scope;
  }
  get installing() {
    webidl.assertBranded(this, ServiceWorkerRegistrationPrototype);
    return workerObject(this[_reg].installing);
  }
  get waiting() {
    webidl.assertBranded(this, ServiceWorkerRegistrationPrototype);
    return workerObject(this[_reg].waiting);
  }
  get active() {
    webidl.assertBranded(this, ServiceWorkerRegistrationPrototype);
    return workerObject(this[_reg].active);
  }
  get updateViaCache() {
    webidl.assertBranded(this, ServiceWorkerRegistrationPrototype);
    return "imports";
  }
  update() {
    webidl.assertBranded(this, ServiceWorkerRegistrationPrototype);
    return Promise.reject(new DOMException("update() is not supported by swrt yet", "NotSupportedError"));
  }
  unregister() {
    webidl.assertBranded(this, ServiceWorkerRegistrationPrototype);
    return Promise.reject(new DOMException("unregister() from a worker is not supported by swrt yet", "NotSupportedError"));
  }
  get [SymbolToStringTag]() {
    return "ServiceWorkerRegistration";
  }
}
const ServiceWorkerRegistrationPrototype = ServiceWorkerRegistration.prototype;
defineEventHandler(ServiceWorkerRegistration.prototype, "updatefound");

let registration = null;

function createRegistration(data) {
  registration = new ServiceWorkerRegistration(illegal, data);
  for (const key of ["installing", "waiting", "active"]) workerObject(data[key]);
  return registration;
}

function currentRegistration() {
  return registration;
}

/** Applies a new registration snapshot and fires `statechange` where a state moved. */
function updateRegistration(data) {
  const before = registration[_reg];
  registration[_reg] = data;
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
  for (const view of seen.values()) {
    const worker = workerObject(view);
    if (worker[_state] !== view.state) {
      worker[_state] = view.state;
      worker.dispatchEvent(new Event("statechange"));
    }
  }
}

/** The version this global scope runs. */
function ownWorker(view) {
  return workerObject(view);
}

async function skipWaiting() {
  await op_swrt_skip_waiting();
}

function serviceWorkerObjectDescriptors() {
  const d = (value) => ({ value, writable: true, enumerable: false, configurable: true });
  return {
    ServiceWorker: d(ServiceWorker),
    ServiceWorkerRegistration: d(ServiceWorkerRegistration),
  };
}

return {
  ServiceWorker,
  ServiceWorkerRegistration,
  createRegistration,
  currentRegistration,
  updateRegistration,
  ownWorker,
  skipWaiting,
  serviceWorkerObjectDescriptors,
};
})();

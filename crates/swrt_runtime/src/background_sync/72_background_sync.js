// Background Sync (WICG): SyncManager (`registration.sync`) and SyncEvent,
// over ops into the host's sync scheduler and the store.
(function () {
const { core, primordials } = __bootstrap;
const { domException, webidl } = core.loadExtScript("ext:swrt/01_web_platform.js");
const { EVENT_INIT_MEMBERS, ExtendableEvent } = core.loadExtScript("ext:swrt/20_extendable_event.js");
const { ServiceWorkerRegistration } = core.loadExtScript("ext:swrt/30_service_worker_objects.js");
const { op_swrt_sync_register, op_swrt_sync_tags } = core.ops;
const { ObjectDefineProperty, ObjectGetOwnPropertyDescriptor, Symbol, TypeError } = primordials;
const { DOMException } = domException;

const _registration = Symbol("registration");
const _tag = Symbol("tag");
const _lastChance = Symbol("lastChance");

class SyncManager {
  constructor() {
    webidl.illegalConstructor();
  }

  async register(tag) {
    webidl.assertBranded(this, SyncManagerPrototype);
    const prefix = "Failed to execute 'register' on 'SyncManager'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    tag = webidl.converters.DOMString(tag, prefix, "Argument 1");
    // Background Sync "register" step: a registration without an active
    // worker cannot hold a sync registration.
    if (this[_registration].active === null) {
      throw new DOMException(`${prefix}: Registration failed - no active Service Worker`, "InvalidStateError");
    }
    await op_swrt_sync_register(this[_registration].scope, tag);
  }

  async getTags() {
    webidl.assertBranded(this, SyncManagerPrototype);
    return await op_swrt_sync_tags(this[_registration].scope);
  }
}
webidl.configureInterface(SyncManager);
const SyncManagerPrototype = SyncManager.prototype;

// ServiceWorkerRegistration.prototype.sync: [SameObject].
const _manager = Symbol("sync manager");
{
  const holder = {
    get sync() {
      if (!(this instanceof ServiceWorkerRegistration)) throw new TypeError("Illegal invocation");
      if (this[_manager] === undefined) {
        this[_manager] = webidl.createBranded(SyncManager);
        this[_manager][_registration] = this;
      }
      return this[_manager];
    },
  };
  ObjectDefineProperty(ServiceWorkerRegistration.prototype, "sync", {
    get: ObjectGetOwnPropertyDescriptor(holder, "sync").get,
    enumerable: true,
    configurable: true,
  });
}

webidl.converters.SyncEventInit = webidl.createDictionaryConverter("SyncEventInit", [
  ...EVENT_INIT_MEMBERS,
  { key: "tag", converter: webidl.converters.DOMString, required: true },
  { key: "lastChance", converter: webidl.converters.boolean, defaultValue: false },
]);

class SyncEvent extends ExtendableEvent {
  constructor(type, init) {
    const prefix = "Failed to construct 'SyncEvent'";
    webidl.requiredArguments(arguments.length, 2, prefix);
    type = webidl.converters.DOMString(type, prefix, "Argument 1");
    init = webidl.converters.SyncEventInit(init, prefix, "Argument 2");
    super(type, init);
    this[_tag] = init.tag;
    this[_lastChance] = init.lastChance;
  }

  get tag() {
    webidl.assertBranded(this, SyncEventPrototype);
    return this[_tag];
  }

  get lastChance() {
    webidl.assertBranded(this, SyncEventPrototype);
    return this[_lastChance];
  }
}
webidl.configureInterface(SyncEvent);
const SyncEventPrototype = SyncEvent.prototype;

/** The trusted event the host dispatches: `{ tag, lastChance }`. */
function createSyncEvent(data) {
  return new SyncEvent("sync", { tag: data.tag, lastChance: data.lastChance });
}

function backgroundSyncDescriptors(serviceWorker) {
  const d = (value) => ({ value, writable: true, enumerable: false, configurable: true });
  const out = { SyncManager: d(SyncManager) };
  if (serviceWorker) out.SyncEvent = d(SyncEvent);
  return out;
}

return { SyncEvent, SyncManager, backgroundSyncDescriptors, createSyncEvent };
})();

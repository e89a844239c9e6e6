// ExtendableEvent (Service Workers section 4.4) and the host side of event dispatch:
// trusted dispatch, lifetime extension by waitUntil(), and the report of
// when that lifetime ends.
(function () {
const { core, primordials } = __bootstrap;
const { domException, event: eventModule, messagePort, rejectionsAsPromise, webidl } = core.loadExtScript(
  "ext:swrt/01_web_platform.js",
);

const { describeError } = core.loadExtScript("ext:swrt/04_realm.js");
const { op_swrt_add_routes, op_swrt_event_settled } = core.ops;
const {
  ArrayPrototypePush,
  ObjectFreeze,
  ObjectPrototypeIsPrototypeOf,
  PromisePrototypeThen,
  PromiseResolve,
  Symbol,
  SymbolFor,
  SymbolIterator,
  TypeError,
} = primordials;
const { DOMException } = domException;
const { Event } = eventModule;
const { MessagePort } = messagePort;

const _extendLifetimePromises = Symbol("extend lifetime promises");
const _pendingPromises = Symbol("pending promises count");
const _dispatching = Symbol("dispatch flag");
const _timedOut = Symbol("timed-out flag");
const _onLifetimeEnd = Symbol("lifetime end callbacks");
const _rejection = Symbol("first rejection");
const _afterLifetime = Symbol("after lifetime callback");

// EventInit's members; every ExtendableEvent init dictionary starts with them.
const EVENT_INIT_MEMBERS = [
  { key: "bubbles", converter: webidl.converters.boolean, defaultValue: false },
  { key: "cancelable", converter: webidl.converters.boolean, defaultValue: false },
  { key: "composed", converter: webidl.converters.boolean, defaultValue: false },
];

webidl.converters.ExtendableEventInit = webidl.createDictionaryConverter("ExtendableEventInit", EVENT_INIT_MEMBERS);

class ExtendableEvent extends Event {
  [_extendLifetimePromises] = [];
  [_pendingPromises] = 0;
  [_dispatching] = false;
  [_timedOut] = false;
  [_onLifetimeEnd] = [];
  [_rejection] = undefined;

  constructor(type, eventInitDict = undefined) {
    const prefix = "Failed to construct 'ExtendableEvent'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    type = webidl.converters.DOMString(type, prefix, "Argument 1");
    eventInitDict = webidl.converters.ExtendableEventInit(eventInitDict, prefix, "Argument 2");
    super(type, eventInitDict);
    this[webidl.brand] = webidl.brand;
  }

  // Service Workers section 4.4.1 waitUntil(f)
  waitUntil(f) {
    webidl.assertBranded(this, ExtendableEventPrototype);
    const prefix = "Failed to execute 'waitUntil' on 'ExtendableEvent'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    // "add lifetime promise": step 1, untrusted events cannot be extended.
    if (!this.isTrusted) {
      throw new DOMException(`${prefix}: The event handler is not trusted.`, "InvalidStateError");
    }
    // Step 2: the event must be active.
    if (!isActive(this)) {
      throw new DOMException(
        `${prefix}: The event handler is already finished and no extend lifetime promises are outstanding.`,
        "InvalidStateError",
      );
    }
    addLifetimePromise(this, PromiseResolve(f));
  }
}
webidl.configureInterface(ExtendableEvent);
const ExtendableEventPrototype = ExtendableEvent.prototype;

const _data = Symbol("data");
const _origin = Symbol("origin");
const _lastEventId = Symbol("lastEventId");
const _source = Symbol("source");
const _ports = Symbol("ports");

// (Client or ServiceWorker or MessagePort)?: a platform object of one of
// the three interfaces, or null. Client and ServiceWorker are defined by
// scripts that load after this one, so they are looked up on first use.
function convertMessageSource(V, prefix, context) {
  if (V === null || V === undefined) return null;
  const { Client } = core.loadExtScript("ext:swrt/40_clients.js");
  const { ServiceWorker } = core.loadExtScript("ext:swrt/30_service_worker_objects.js");
  if (
    ObjectPrototypeIsPrototypeOf(Client.prototype, V) ||
    ObjectPrototypeIsPrototypeOf(ServiceWorker.prototype, V) ||
    ObjectPrototypeIsPrototypeOf(MessagePort.prototype, V)
  ) {
    return V;
  }
  throw webidl.makeException(
    TypeError,
    "is not of type '(Client or ServiceWorker or MessagePort)'.",
    prefix,
    context,
  );
}

const convertMessagePorts = webidl.createSequenceConverter(
  webidl.createInterfaceConverter("MessagePort", MessagePort.prototype),
);

webidl.converters.ExtendableMessageEventInit = webidl.createDictionaryConverter(
  "ExtendableMessageEventInit",
  EVENT_INIT_MEMBERS,
  [
    { key: "data", converter: webidl.converters.any, defaultValue: null },
    { key: "origin", converter: webidl.converters.USVString, defaultValue: "" },
    { key: "lastEventId", converter: webidl.converters.DOMString, defaultValue: "" },
    { key: "source", converter: convertMessageSource, defaultValue: null },
    { key: "ports", converter: convertMessagePorts, defaultValue: [] },
  ],
);

// Service Workers section 4.5: the message event of a service worker.
class ExtendableMessageEvent extends ExtendableEvent {
  constructor(type, eventInitDict = undefined) {
    const prefix = "Failed to construct 'ExtendableMessageEvent'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    type = webidl.converters.DOMString(type, prefix, "Argument 1");
    const init = webidl.converters.ExtendableMessageEventInit(eventInitDict, prefix, "Argument 2");
    super(type, init);
    this[_data] = init.data;
    this[_origin] = init.origin;
    this[_lastEventId] = init.lastEventId;
    this[_source] = init.source;
    // FrozenArray<MessagePort>: one frozen array, the same on every get.
    this[_ports] = ObjectFreeze(init.ports);
  }
  get data() {
    webidl.assertBranded(this, ExtendableMessageEventPrototype);
    return this[_data];
  }
  get origin() {
    webidl.assertBranded(this, ExtendableMessageEventPrototype);
    return this[_origin];
  }
  get lastEventId() {
    webidl.assertBranded(this, ExtendableMessageEventPrototype);
    return this[_lastEventId];
  }
  get source() {
    webidl.assertBranded(this, ExtendableMessageEventPrototype);
    return this[_source];
  }
  get ports() {
    webidl.assertBranded(this, ExtendableMessageEventPrototype);
    return this[_ports];
  }
}
webidl.configureInterface(ExtendableMessageEvent);
const ExtendableMessageEventPrototype = ExtendableMessageEvent.prototype;

// Static routing's dictionaries (Service Workers, "RouterRule").
webidl.converters.RunningStatus = webidl.createEnumConverter("RunningStatus", ["running", "not-running"]);
webidl.converters.RouterSourceEnum = webidl.createEnumConverter("RouterSourceEnum", [
  "cache",
  "fetch-event",
  "network",
  "race-network-and-fetch-handler",
]);
webidl.converters.RequestDestination = webidl.createEnumConverter("RequestDestination", [
  "", "audio", "audioworklet", "document", "embed", "font", "frame", "iframe", "image", "json",
  "manifest", "object", "paintworklet", "report", "script", "sharedworker", "style", "track",
  "video", "worker", "xslt",
]);
webidl.converters.URLPatternInit = webidl.createDictionaryConverter(
  "URLPatternInit",
  ["protocol", "username", "password", "hostname", "port", "pathname", "search", "hash", "baseURL"].map((key) => ({
    key,
    converter: webidl.converters.USVString,
  })),
);
// URLPatternCompatible: swrt has no URLPattern interface, so a
// URLPatternInit or a constructor string.
function convertUrlPatternCompatible(V, prefix, context, opts) {
  if (V !== null && typeof V === "object") return webidl.converters.URLPatternInit(V, prefix, context, opts);
  return webidl.converters.USVString(V, prefix, context, opts);
}
webidl.converters.RouterCondition = webidl.createDictionaryConverter("RouterCondition", [
  { key: "urlPattern", converter: convertUrlPatternCompatible },
  { key: "requestMethod", converter: webidl.converters.ByteString },
  { key: "requestMode", converter: (V, p, c, o) => webidl.converters.RequestMode(V, p, c, o) },
  { key: "requestDestination", converter: webidl.converters.RequestDestination },
  { key: "runningStatus", converter: webidl.converters.RunningStatus },
  // Recursive members: the converters exist once this statement has run.
  { key: "_or", converter: (V, p, c, o) => webidl.converters["sequence<RouterCondition>"](V, p, c, o) },
  { key: "not", converter: (V, p, c, o) => webidl.converters.RouterCondition(V, p, c, o) },
]);
webidl.converters["sequence<RouterCondition>"] = webidl.createSequenceConverter(webidl.converters.RouterCondition);
webidl.converters.RouterSourceDict = webidl.createDictionaryConverter("RouterSourceDict", [
  { key: "cacheName", converter: webidl.converters.DOMString },
]);
// RouterSource = (RouterSourceDict or RouterSourceEnum).
function convertRouterSource(V, prefix, context, opts) {
  if (V === null || V === undefined || typeof V === "object" || typeof V === "function") {
    return webidl.converters.RouterSourceDict(V, prefix, context, opts);
  }
  return webidl.converters.RouterSourceEnum(V, prefix, context, opts);
}
webidl.converters.RouterRule = webidl.createDictionaryConverter("RouterRule", [
  { key: "condition", converter: webidl.converters.RouterCondition, required: true },
  { key: "source", converter: convertRouterSource, required: true },
]);
webidl.converters["sequence<RouterRule>"] = webidl.createSequenceConverter(webidl.converters.RouterRule);
// (RouterRule or sequence<RouterRule>): an object with @@iterator is a
// sequence, anything else the dictionary.
function convertRouterRules(V, prefix, context) {
  if (V !== null && typeof V === "object" && typeof V[SymbolIterator] === "function") {
    return webidl.converters["sequence<RouterRule>"](V, prefix, context);
  }
  return [webidl.converters.RouterRule(V, prefix, context)];
}

// Service Workers section 4.5 (InstallEvent): the install event, whose
// addRoutes() adds the worker's router rules.
class InstallEvent extends ExtendableEvent {
  constructor(type, eventInitDict = undefined) {
    const prefix = "Failed to construct 'InstallEvent'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    type = webidl.converters.DOMString(type, prefix, "Argument 1");
    eventInitDict = webidl.converters.ExtendableEventInit(eventInitDict, prefix, "Argument 2");
    super(type, eventInitDict);
  }

  addRoutes(rules) {
    return rejectionsAsPromise(() => {
      webidl.assertBranded(this, InstallEventPrototype);
      const prefix = "Failed to execute 'addRoutes' on 'InstallEvent'";
      webidl.requiredArguments(arguments.length, 1, prefix);
      rules = convertRouterRules(rules, prefix, "Argument 1");
      // Only the install event the worker is getting may add its routes,
      // while the event can still be extended.
      if (!this.isTrusted || !isActive(this)) {
        throw new DOMException(
          `${prefix}: routes can only be added while the worker's install event is active.`,
          "InvalidStateError",
        );
      }
      // The host checks the rules ("Verify Router Condition") and adds
      // them; the install waits for that, but a refused rule only rejects
      // this promise.
      const added = op_swrt_add_routes(rules);
      addLifetimePromise(this, PromisePrototypeThen(added, () => {}, () => {}));
      return added;
    });
  }
}
webidl.configureInterface(InstallEvent);
const InstallEventPrototype = InstallEvent.prototype;

/** An ExtendableEvent is active while dispatching or while promises are pending. */
function isActive(event) {
  return !event[_timedOut] && (event[_dispatching] || event[_pendingPromises] > 0);
}

function addLifetimePromise(event, promise) {
  ArrayPrototypePush(event[_extendLifetimePromises], promise);
  event[_pendingPromises]++;
  const settle = (rejected, reason) => {
    if (rejected && event[_rejection] === undefined) event[_rejection] = { reason };
    // Decrement in a microtask so a waitUntil() called from a reaction to the
    // last promise still finds the event active (spec: queue a microtask).
    queueMicrotask(() => {
      event[_pendingPromises]--;
      maybeEnd(event);
    });
  };
  PromisePrototypeThen(promise, () => settle(false), (reason) => settle(true, reason));
}

function maybeEnd(event) {
  if (event[_dispatching] || event[_pendingPromises] > 0) return;
  const callbacks = event[_onLifetimeEnd];
  event[_onLifetimeEnd] = [];
  for (const cb of callbacks) cb();
}

/** Runs `cb` once the event is no longer active. */
function whenLifetimeEnds(event, cb) {
  if (!isActive(event)) {
    queueMicrotask(cb);
  } else {
    ArrayPrototypePush(event[_onLifetimeEnd], cb);
  }
}

const _afterDispatch = Symbol("after dispatch callback");

/** Runs `cb` right after the event's listeners ran (the dispatch flag unset). */
function setAfterDispatch(event, cb) {
  event[_afterDispatch] = cb;
}

/** True while the event is being dispatched (its listeners are running). */
function isDispatching(event) {
  return event[_dispatching] === true;
}

/** Extends a dispatched event's lifetime with `promise` (used by respondWith). */
function extendLifetime(event, promise) {
  addLifetimePromise(event, promise);
}

/** Runs `cb` when a dispatched event's lifetime ends, before the host hears of it. */
function setAfterLifetime(event, cb) {
  event[_afterLifetime] = cb;
}

/** The first rejection of the event's lifetime promises, if any. */
function lifetimeRejection(event) {
  return event[_rejection];
}

function errorReport(status, error) {
  const { message, stack } = describeError(error);
  const errorLike = error !== null && typeof error === "object" && "message" in error;
  return { status, message: errorLike ? message : `Uncaught ${message}`, stack: stack ?? undefined };
}

/**
 * Dispatches a trusted event on the global scope and reports to the host when
 * its lifetime ends: "completed", "threw" (a listener threw) or "rejected"
 * (a waitUntil promise rejected).
 */
function dispatchTrusted(eventId, event) {
  eventModule.setIsTrusted(event, true);
  let thrown;
  const onError = (e) => {
    if (thrown === undefined) thrown = { error: e.error ?? e.message };
  };
  globalThis.addEventListener("error", onError);
  if (event instanceof ExtendableEvent) event[_dispatching] = true;
  try {
    globalThis.dispatchEvent(event);
  } finally {
    globalThis.removeEventListener("error", onError);
    if (event instanceof ExtendableEvent) event[_dispatching] = false;
    try {
      event[_afterDispatch]?.();
    } catch (error) {
      eventModule.reportException(error);
    }
  }
  const finish = () => {
    try {
      event[_afterLifetime]?.();
    } catch (error) {
      eventModule.reportException(error);
    }
    let report;
    if (thrown !== undefined) report = errorReport("threw", thrown.error);
    else if (event instanceof ExtendableEvent && event[_rejection] !== undefined) {
      report = errorReport("rejected", event[_rejection].reason);
    } else report = { status: "completed" };
    op_swrt_event_settled(eventId, report);
  };
  if (event instanceof ExtendableEvent) {
    maybeEnd(event);
    whenLifetimeEnds(event, finish);
  } else {
    finish();
  }
}

// Spec: ExtendableEvent is exposed only in service workers.
function extendableEventDescriptors() {
  return {
    ExtendableEvent: { value: ExtendableEvent, writable: true, enumerable: false, configurable: true },
    ExtendableMessageEvent: { value: ExtendableMessageEvent, writable: true, enumerable: false, configurable: true },
    InstallEvent: { value: InstallEvent, writable: true, enumerable: false, configurable: true },
  };
}

void TypeError;
void SymbolFor;

return {
  EVENT_INIT_MEMBERS,
  extendLifetime,
  isDispatching,
  setAfterDispatch,
  setAfterLifetime,
  ExtendableEvent,
  ExtendableMessageEvent,
  ExtendableEventPrototype,
  InstallEvent,
  isActive,
  whenLifetimeEnds,
  lifetimeRejection,
  dispatchTrusted,
  extendableEventDescriptors,
};
})();

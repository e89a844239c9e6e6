// The web platform shared by every swrt realm (service workers and pages):
// loads deno_web / deno_webidl / deno_fetch's spec-tested classes and returns
// the property descriptors to install on a global object.
(function () {
const { core, primordials } = __bootstrap;

const {
  FunctionPrototypeCall,
  ObjectDefineProperty,
  ObjectGetOwnPropertyDescriptor,
  ObjectGetPrototypeOf,
  ObjectPrototype,
  ObjectSetPrototypeOf,
  ReflectSetPrototypeOf,
  SafeWeakSet,
  WeakSetPrototypeAdd,
  WeakSetPrototypeHas,
  ObjectPrototypeIsPrototypeOf,
  PromiseReject,
  Symbol,
  SymbolToStringTag,
  TypeError,
  TypeErrorPrototype,
} = primordials;

const webidl = core.loadExtScript("ext:deno_webidl/00_webidl.js");
const infra = core.loadExtScript("ext:deno_web/00_infra.js");
const url = core.loadExtScript("ext:deno_web/00_url.js");
const domException = core.loadExtScript("ext:deno_web/01_dom_exception.js");
const event = core.loadExtScript("ext:deno_web/02_event.js");
const structuredCloneModule = core.loadExtScript("ext:deno_web/02_structured_clone.js");
const timers = core.loadExtScript("ext:deno_web/02_timers.js");
const abortSignal = core.loadExtScript("ext:deno_web/03_abort_signal.js");
const globalInterfaces = core.loadExtScript("ext:deno_web/04_global_interfaces.js");
const base64 = core.loadExtScript("ext:deno_web/05_base64.js");
const streams = core.loadExtScript("ext:deno_web/06_streams.js");
const encoding = core.loadExtScript("ext:deno_web/08_text_encoding.js");
const file = core.loadExtScript("ext:deno_web/09_file.js");
const fileReader = core.loadExtScript("ext:deno_web/10_filereader.js");
const location = core.loadExtScript("ext:deno_web/12_location.js");
const messagePortModule = core.loadExtScript("ext:deno_web/13_message_port.js");
// HTML StructuredSerializeWithTransfer: a value that cannot be cloned (a
// function, say) is a DataCloneError. The engine's serializer reports some
// of those as a TypeError; deno's structuredClone() converts them, and the
// runtime's postMessage() paths (service workers, clients, workers,
// windows) serialize through this copy, which does the same.
const messagePort = {
  ...messagePortModule,
  serializeJsMessageData(data, transferables) {
    try {
      return messagePortModule.serializeJsMessageData(data, transferables);
    } catch (error) {
      if (ObjectPrototypeIsPrototypeOf(TypeErrorPrototype, error)) {
        throw new domException.DOMException(error.message, "DataCloneError");
      }
      throw error;
    }
  },
};
const compression = core.loadExtScript("ext:deno_web/14_compression.js");
const performance = core.loadExtScript("ext:deno_web/15_performance.js");
const broadcastChannel = core.loadExtScript("ext:deno_web/01_broadcast_channel.js");
const headers = core.loadExtScript("ext:deno_fetch/20_headers.js");
const formData = core.loadExtScript("ext:deno_fetch/21_formdata.js");
const body = core.loadExtScript("ext:deno_fetch/22_body.js");
const request = core.loadExtScript("ext:deno_fetch/23_request.js");
const response = core.loadExtScript("ext:deno_fetch/23_response.js");

// Fetch's Request.destination, which deno_fetch's Request lacks: "" for
// requests script makes; the host sets it on the requests it dispatches
// (a navigation's "document" or "iframe").
ObjectDefineProperty(request.Request.prototype, "destination", {
  get() {
    webidl.assertBranded(this, request.Request.prototype);
    return request.toInnerRequest(this).destination ?? "";
  },
  enumerable: true,
  configurable: true,
});

function nonEnumerable(value) {
  return { value, writable: true, enumerable: false, configurable: true };
}

function readOnly(value) {
  return { value, enumerable: true, configurable: true, writable: false };
}

function getterOnly(getter) {
  return { get: getter, set() {}, enumerable: true, configurable: true };
}


/** IndexedDB and StorageManager, loaded on first use. */
function indexedDbModule() {
  return core.loadExtScript("ext:swrt_indexeddb/01_indexeddb.js");
}

/** A global interface loaded on first access, then a plain data property. */
function lazyInterface(name) {
  return {
    get() {
      const value = indexedDbModule().interfaces[name];
      ObjectDefineProperty(this ?? globalThis, name, nonEnumerable(value));
      return value;
    },
    set(value) {
      ObjectDefineProperty(this ?? globalThis, name, nonEnumerable(value));
    },
    enumerable: false,
    configurable: true,
  };
}

function indexedDbDescriptors() {
  const descriptors = {
    indexedDB: { get: () => indexedDbModule().indexedDB, set() {}, enumerable: true, configurable: true },
  };
  for (const name of [
    "IDBFactory", "IDBOpenDBRequest", "IDBRequest", "IDBDatabase", "IDBTransaction",
    "IDBObjectStore", "IDBIndex", "IDBCursor", "IDBCursorWithValue", "IDBKeyRange",
    "IDBVersionChangeEvent", "DOMStringList", "StorageManager",
  ]) {
    descriptors[name] = lazyInterface(name);
  }
  return descriptors;
}

/** Interfaces and functions every realm exposes (HTML's shared globals). */
function webGlobalDescriptors() {
  return {
    ...indexedDbDescriptors(),
    AbortController: nonEnumerable(abortSignal.AbortController),
    AbortSignal: nonEnumerable(abortSignal.AbortSignal),
    Blob: nonEnumerable(file.Blob),
    ByteLengthQueuingStrategy: nonEnumerable(streams.ByteLengthQueuingStrategy),
    CloseEvent: nonEnumerable(event.CloseEvent),
    CompressionStream: nonEnumerable(compression.CompressionStream),
    CountQueuingStrategy: nonEnumerable(streams.CountQueuingStrategy),
    CustomEvent: nonEnumerable(event.CustomEvent),
    DecompressionStream: nonEnumerable(compression.DecompressionStream),
    DOMException: nonEnumerable(domException.DOMException),
    ErrorEvent: nonEnumerable(event.ErrorEvent),
    Event: nonEnumerable(event.Event),
    EventTarget: nonEnumerable(event.EventTarget),
    File: nonEnumerable(file.File),
    FileReader: nonEnumerable(fileReader.FileReader),
    FormData: nonEnumerable(formData.FormData),
    Headers: nonEnumerable(headers.Headers),
    MessageEvent: nonEnumerable(event.MessageEvent),
    MessageChannel: nonEnumerable(messagePort.MessageChannel),
    MessagePort: nonEnumerable(messagePort.MessagePort),
    BroadcastChannel: nonEnumerable(broadcastChannel.BroadcastChannel),
    Performance: nonEnumerable(performance.Performance),
    performance: nonEnumerable(performance.performance),
    ProgressEvent: nonEnumerable(event.ProgressEvent),
    PromiseRejectionEvent: nonEnumerable(event.PromiseRejectionEvent),
    QuotaExceededError: nonEnumerable(domException.QuotaExceededError),
    ReadableByteStreamController: nonEnumerable(streams.ReadableByteStreamController),
    ReadableStream: nonEnumerable(streams.ReadableStream),
    ReadableStreamBYOBReader: nonEnumerable(streams.ReadableStreamBYOBReader),
    ReadableStreamBYOBRequest: nonEnumerable(streams.ReadableStreamBYOBRequest),
    ReadableStreamDefaultController: nonEnumerable(streams.ReadableStreamDefaultController),
    ReadableStreamDefaultReader: nonEnumerable(streams.ReadableStreamDefaultReader),
    Request: nonEnumerable(request.Request),
    Response: nonEnumerable(response.Response),
    TextDecoder: nonEnumerable(encoding.TextDecoder),
    TextDecoderStream: nonEnumerable(encoding.TextDecoderStream),
    TextEncoder: nonEnumerable(encoding.TextEncoder),
    TextEncoderStream: nonEnumerable(encoding.TextEncoderStream),
    TransformStream: nonEnumerable(streams.TransformStream),
    TransformStreamDefaultController: nonEnumerable(streams.TransformStreamDefaultController),
    URL: nonEnumerable(url.URL),
    URLSearchParams: nonEnumerable(url.URLSearchParams),
    WritableStream: nonEnumerable(streams.WritableStream),
    WritableStreamDefaultController: nonEnumerable(streams.WritableStreamDefaultController),
    WritableStreamDefaultWriter: nonEnumerable(streams.WritableStreamDefaultWriter),
    atob: nonEnumerable(base64.atob),
    btoa: nonEnumerable(base64.btoa),
    clearInterval: nonEnumerable(timers.clearInterval),
    clearTimeout: nonEnumerable(timers.clearTimeout),
    queueMicrotask: nonEnumerable(globalThis.queueMicrotask),
    reportError: nonEnumerable(event.reportError),
    setInterval: nonEnumerable(timers.setInterval),
    setTimeout: nonEnumerable(timers.setTimeout),
    structuredClone: nonEnumerable(messagePort.structuredClone),
  };
}

const DOM_EXCEPTION_NAMES = [
  "AbortError", "DataError", "InvalidAccessError", "InvalidCharacterError",
  "InvalidStateError", "NetworkError", "NotAllowedError", "NotFoundError",
  "NotSupportedError", "OperationError", "QuotaExceededError", "SecurityError", "SyntaxError",
  "TimeoutError", "TypeMismatchError",
];

/** Ops report DOMExceptions by class name "DOMException<Name>"; build them here. */
function registerDomExceptionBuilders() {
  for (const name of DOM_EXCEPTION_NAMES) {
    try {
      // QuotaExceededError is an interface of its own (WebIDL), not only a name.
      const build = name === "QuotaExceededError"
        ? (message) => new domException.QuotaExceededError(message)
        : (message) => new domException.DOMException(message, name);
      core.registerErrorBuilder(`DOMException${name}`, build);
    } catch {
      // Already registered by another extension.
    }
  }
}

/**
 * An event handler IDL attribute of an interface (HTML "event handler IDL
 * attributes"), with deno_web's semantics, whose accessors are named
 * `get onX`/`set onX` and throw TypeError on objects that do not
 * implement the interface, as Web IDL's attribute getters and setters do.
 */
function defineBrandedEventHandler(prototype, type) {
  const scratch = {};
  event.defineEventHandler(scratch, type);
  const inner = ObjectGetOwnPropertyDescriptor(scratch, `on${type}`);
  const property = `on${type}`;
  const holder = {
    get [property]() {
      webidl.assertBranded(this, prototype);
      return FunctionPrototypeCall(inner.get, this);
    },
    set [property](value) {
      webidl.assertBranded(this, prototype);
      FunctionPrototypeCall(inner.set, this, value);
    },
  };
  ObjectDefineProperty(prototype, property, {
    ...ObjectGetOwnPropertyDescriptor(holder, property),
    enumerable: true,
    configurable: true,
  });
}

/**
 * Web IDL: an operation or attribute getter whose type is a promise turns
 * an exception (a failed brand check, say) into a rejected promise.
 */
function rejectionsAsPromise(body) {
  try {
    return body();
  } catch (error) {
    return PromiseReject(error);
  }
}

/**
 * Web IDL: the global object and the interface prototype objects of its
 * interface and the interfaces it inherits from are immutable prototype
 * exotic objects: setting their [[Prototype]] to another value fails
 * (TypeError from Object.setPrototypeOf and `__proto__`, false from
 * Reflect.setPrototypeOf). The engine has no such objects, so the three
 * ways script can set a prototype refuse them.
 */
function makePrototypesImmutable(objects) {
  const immutable = new SafeWeakSet();
  for (let i = 0; i < objects.length; i++) WeakSetPrototypeAdd(immutable, objects[i]);
  const refused = (object, proto) =>
    (typeof object === "object" || typeof object === "function") && object !== null &&
    WeakSetPrototypeHas(immutable, object) && ObjectGetPrototypeOf(object) !== proto;
  const message = "Immutable prototype object cannot have its prototype set";
  const objectSetPrototypeOf = ObjectSetPrototypeOf;
  const reflectSetPrototypeOf = ReflectSetPrototypeOf;
  const protoAccessor = ObjectGetOwnPropertyDescriptor(ObjectPrototype, "__proto__");
  const replacements = {
    setPrototypeOf(object, proto) {
      if (refused(object, proto)) throw new TypeError(message);
      return objectSetPrototypeOf(object, proto);
    },
    reflectSetPrototypeOf(object, proto) {
      if (refused(object, proto)) return false;
      return reflectSetPrototypeOf(object, proto);
    },
    set __proto__(proto) {
      if (refused(this, proto)) throw new TypeError(message);
      FunctionPrototypeCall(protoAccessor.set, this, proto);
    },
  };
  ObjectDefineProperty(replacements.reflectSetPrototypeOf, "name", { value: "setPrototypeOf" });
  ObjectDefineProperty(Object, "setPrototypeOf", { value: replacements.setPrototypeOf });
  ObjectDefineProperty(Reflect, "setPrototypeOf", { value: replacements.reflectSetPrototypeOf });
  ObjectDefineProperty(ObjectPrototype, "__proto__", {
    set: ObjectGetOwnPropertyDescriptor(replacements, "__proto__").set,
  });
}

/** Makes `target` the global `self` and wires deno_web's EventTarget to it. */
function installGlobalScope(proto) {
  // The global object itself becomes the EventTarget: its prototype chain is
  // ServiceWorkerGlobalScope -> WorkerGlobalScope -> EventTarget.
  Object.setPrototypeOf(globalThis, proto);
  const chain = [globalThis];
  for (let object = proto; object !== null && object !== ObjectPrototype; object = ObjectGetPrototypeOf(object)) {
    chain.push(object);
  }
  makePrototypesImmutable(chain);
  ObjectDefineProperty(globalThis, webidl.brand, nonEnumerable(webidl.brand));
  event.setEventTargetData(globalThis);
  event.saveGlobalThisReference(globalThis);
  ObjectDefineProperty(globalThis, "self", getterOnly(() => globalThis));
  ObjectDefineProperty(globalThis, "globalThis", nonEnumerable(globalThis));
  registerDomExceptionBuilders();
}

const illegalWorkerNavigator = Symbol("illegal constructor");

/** HTML's WorkerNavigator, the `navigator` of every kind of worker. */
class WorkerNavigator {
  constructor(key = undefined) {
    if (key !== illegalWorkerNavigator) throw new TypeError("Illegal constructor");
  }
  get userAgent() { return "swrt/0.1"; }
  get language() { return "en-US"; }
  get languages() { return ["en-US"]; }
  get onLine() { return core.ops.op_swrt_host_online(); }
  get hardwareConcurrency() { return 2; }
  get storage() { return indexedDbModule().storage; }
  get [SymbolToStringTag]() { return "WorkerNavigator"; }
}

function createWorkerNavigator() {
  return new WorkerNavigator(illegalWorkerNavigator);
}

return {
  webidl,
  infra,
  url,
  domException,
  event,
  structuredCloneModule,
  timers,
  abortSignal,
  globalInterfaces,
  base64,
  streams,
  encoding,
  file,
  fileReader,
  location,
  messagePort,
  compression,
  performance,
  broadcastChannel,
  headers,
  formData,
  body,
  request,
  response,
  webGlobalDescriptors,
  indexedDbModule,
  WorkerNavigator,
  createWorkerNavigator,
  registerDomExceptionBuilders,
  installGlobalScope,
  defineBrandedEventHandler,
  rejectionsAsPromise,
  getterOnly,
  nonEnumerable,
  readOnly,
};
})();

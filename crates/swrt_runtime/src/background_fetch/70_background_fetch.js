// Background Fetch (WICG Background Fetch): BackgroundFetchManager,
// BackgroundFetchRegistration, BackgroundFetchRecord and the two event
// classes, over ops into the Rust engine. Shapes follow background-fetch.idl.
// One file past 500 lines on purpose: the interfaces share the registration
// state (live objects, progress, released records) kept here.
(function () {
const { core, primordials } = __bootstrap;
const {
  domException,
  event: eventModule,
  headers: headersModule,
  request: requestModule,
  response: responseModule,
  body: bodyModule,
  streams,
  timers,
  webidl,
} = core.loadExtScript("ext:swrt/01_web_platform.js");
const { EVENT_INIT_MEMBERS, ExtendableEvent, isActive, setAfterLifetime } = core.loadExtScript(
  "ext:swrt/20_extendable_event.js",
);
const { ServiceWorkerRegistration } = core.loadExtScript("ext:swrt/30_service_worker_objects.js");
const {
  op_swrt_bgfetch_fetch,
  op_swrt_bgfetch_get,
  op_swrt_bgfetch_ids,
  op_swrt_bgfetch_abort,
  op_swrt_bgfetch_match_all,
  op_swrt_bgfetch_request_body,
  op_swrt_bgfetch_response,
  op_swrt_bgfetch_update_ui,
  op_swrt_bgfetch_watch,
  op_swrt_bgfetch_watch_next,
} = core.ops;
const {
  ArrayFrom,
  ArrayIsArray,
  ArrayPrototypeMap,
  ArrayPrototypePush,
  FunctionPrototypeCall,
  ObjectDefineProperty,
  ObjectFreeze,
  ObjectGetOwnPropertyDescriptor,
  Promise,
  PromisePrototypeCatch,
  PromiseReject,
  SafeSet,
  StringPrototypeIndexOf,
  StringPrototypeSlice,
  StringPrototypeSplit,
  Symbol,
  SymbolIterator,
  TypeError,
  Uint8Array,
} = primordials;
const { DOMException, QuotaExceededError } = domException;
const { EventTarget, Event, setEventTargetData } = eventModule;
const { Request, RequestPrototype, fromInnerRequest } = requestModule;
const { fromInnerResponse } = responseModule;
const { InnerBody } = bodyModule;

const illegal = Symbol("illegal constructor");
const _scope = Symbol("scope");
const _data = Symbol("registration data");
const _request = Symbol("request");
const _responseReady = Symbol("responseReady");
const _record = Symbol("record");
const _registration = Symbol("registration");
const _updateUICalled = Symbol("updateUI called");
const _settledResult = Symbol("result delivered");

// The page's Content-Security-Policy connect-src, when a page realm provides it.
let cspProvider = () => [];

// --- WebIDL dictionaries -------------------------------------------------

webidl.converters.ImageResource = webidl.createDictionaryConverter("ImageResource", [
  { key: "src", converter: webidl.converters.USVString, required: true },
  { key: "sizes", converter: webidl.converters.DOMString },
  { key: "type", converter: webidl.converters.DOMString },
  { key: "label", converter: webidl.converters.DOMString },
]);
webidl.converters["sequence<ImageResource>"] = webidl.createSequenceConverter(webidl.converters.ImageResource);
const uiOptionsMembers = [
  { key: "icons", converter: webidl.converters["sequence<ImageResource>"] },
  { key: "title", converter: webidl.converters.DOMString },
];
webidl.converters.BackgroundFetchUIOptions = webidl.createDictionaryConverter("BackgroundFetchUIOptions", uiOptionsMembers);
webidl.converters.BackgroundFetchOptions = webidl.createDictionaryConverter(
  "BackgroundFetchOptions",
  uiOptionsMembers,
  [{ key: "downloadTotal", converter: webidl.converters["unsigned long long"], defaultValue: 0 }],
);
webidl.converters.CacheQueryOptions = webidl.createDictionaryConverter("CacheQueryOptions", [
  { key: "ignoreSearch", converter: webidl.converters.boolean, defaultValue: false },
  { key: "ignoreMethod", converter: webidl.converters.boolean, defaultValue: false },
  { key: "ignoreVary", converter: webidl.converters.boolean, defaultValue: false },
]);

function icons(list, base) {
  return ArrayPrototypeMap(list ?? [], (icon) => ({
    src: new URL(icon.src, base).href,
    sizes: icon.sizes ?? "",
    type: icon.type ?? "",
    label: icon.label ?? "",
  }));
}

// --- Requests --------------------------------------------------------------

/** Request -> the engine's RequestSpec, with its body read byte-exact. */
async function requestSpec(request) {
  const inner = requestModule.toInnerRequest(request);
  let body = null;
  if (inner.body !== null) {
    // The body is stored with the fetch: read it from a clone so the
    // caller's Request stays usable.
    body = new Uint8Array(await request.clone().arrayBuffer());
  }
  return {
    method: request.method,
    url: request.url,
    headers: ArrayFrom(request.headers),
    mode: request.mode,
    credentials: request.credentials,
    body,
    integrity: request.integrity,
  };
}

function isSequence(value) {
  return value !== null && typeof value === "object" && !(value instanceof Request) &&
    typeof value[SymbolIterator] === "function";
}

/** A header list from the engine's `name:value` lines (see the response op). */
function parseHeaderLines(lines) {
  const list = [];
  if (lines === "") return list;
  for (const line of StringPrototypeSplit(lines, "\n")) {
    const colon = StringPrototypeIndexOf(line, ":");
    ArrayPrototypePush(list, [StringPrototypeSlice(line, 0, colon), StringPrototypeSlice(line, colon + 1)]);
  }
  return list;
}

// A handler may hold 100,000 records with their requests and responses, so
// these are built from what the engine stored (already parsed and
// normalised) as deno_fetch's inner request and response, not through the
// Request and Response constructors. Their methods and accessors live on a
// prototype and their lists are made on first use: an object literal with
// methods, or a header list of small arrays, costs a KiB or more each.
const _spec = Symbol("spec");
const _headerList = Symbol("headerList");
const _urlList = Symbol("urlList");
const _urlListProcessed = Symbol("urlListProcessed");
const _headerLines = Symbol("headerLines");

/** The inner request of `record.request`. */
class RecordInnerRequest {
  constructor(spec, body) {
    this[_spec] = spec;
    this[_headerList] = null;
    this[_urlList] = null;
    this[_urlListProcessed] = null;
    this.method = spec.method;
    this.body = body;
    this.redirectMode = "follow";
    this.redirectCount = 0;
    this.clientRid = null;
    this.blobUrlEntry = null;
    this.mode = spec.mode === "navigate" ? "same-origin" : spec.mode;
    this.credentialsMode = spec.credentials;
    this.integrity = spec.integrity ?? "";
  }
  get headerList() {
    this[_headerList] ??= ArrayPrototypeMap(this[_spec].headers, (header) => [header[0], header[1]]);
    return this[_headerList];
  }
  set headerList(list) {
    this[_headerList] = list;
  }
  get urlList() {
    const url = this[_spec].url;
    this[_urlList] ??= [() => url];
    return this[_urlList];
  }
  set urlList(list) {
    this[_urlList] = list;
  }
  get urlListProcessed() {
    this[_urlListProcessed] ??= [this[_spec].url];
    return this[_urlListProcessed];
  }
  set urlListProcessed(list) {
    this[_urlListProcessed] = list;
  }
  url() {
    return this.urlListProcessed[0];
  }
  currentUrl() {
    const index = this.urlList.length - 1;
    const processed = this.urlListProcessed;
    processed[index] ??= this.urlList[index]();
    return processed[index];
  }
}

/** The inner response `record.responseReady` resolves with. */
class RecordInnerResponse {
  constructor(r) {
    this[_headerLines] = r.headerLines;
    this[_headerList] = null;
    this.type = r.responseType === "cors" ? "cors" : "basic";
    this.body = null;
    this.urlList = r.urlList;
    this.status = r.status;
    this.statusMessage = r.statusText;
    this.aborted = false;
    this.bodyDecoded = false;
  }
  get headerList() {
    this[_headerList] ??= parseHeaderLines(this[_headerLines]);
    return this[_headerList];
  }
  set headerList(list) {
    this[_headerList] = list;
  }
  url() {
    return this.urlList.length === 0 ? null : this.urlList[this.urlList.length - 1];
  }
}

/**
 * A copy of a stored request (`record.request`). Its body, if any, is a
 * stream that reads the stored bytes when it is first pulled.
 */
function requestFromSpec(uniqueId, index, spec, hasBody) {
  let body = null;
  if (hasBody && spec.method !== "GET" && spec.method !== "HEAD") {
    body = new InnerBody(new streams.ReadableStream({
      type: "bytes",
      async pull(controller) {
        const bytes = await op_swrt_bgfetch_request_body(uniqueId, index);
        if (bytes !== null && bytes.byteLength > 0) controller.enqueue(bytes);
        controller.close();
      },
    }));
  }
  return fromInnerRequest(new RecordInnerRequest(spec, body), "request");
}

// --- BackgroundFetchRegistration ------------------------------------------

// Fetches whose records are gone: their success/fail event's lifetime ended
// (here, or in the worker, as the engine reports). `recordsAvailable` is then
// false on every object for the registration, whenever it was made.
const releasedRecords = new SafeSet(); // uniqueId

/** Resolves in a task of its own (a zero-delay timer). */
function nextTask() {
  return new Promise((resolve) => FunctionPrototypeCall(timers.setTimeout, globalThis, resolve, 0));
}

/**
 * Follows the fetch's state for one registration object, from the state the
 * engine has now (the object may come from an older read) until the fetch
 * is done. Each change is applied in a task of its own, as the spec queues
 * one: a progress event fired in the op's promise job could fall between
 * fetch() resolving and the caller's continuation, before the caller has
 * added its listener.
 */
async function followProgress(registration) {
  const rid = await op_swrt_bgfetch_watch(registration[_data].uniqueId);
  if (rid === null) return;
  try {
    for (;;) {
      const next = await op_swrt_bgfetch_watch_next(rid);
      if (next === null) return;
      await nextTask();
      applyProgress(registration, next.registration, next.isFinal);
    }
  } finally {
    core.tryClose(rid);
  }
}

function applyProgress(registration, data, isFinal) {
  // The engine repeats the final values once the records are gone.
  if (isFinal && data.result !== "" && !data.recordsAvailable) releasedRecords.add(data.uniqueId);
  updateRegistration(registration, data);
}

function changed(a, b) {
  return a.downloaded !== b.downloaded || a.uploaded !== b.uploaded || a.result !== b.result ||
    a.failureReason !== b.failureReason || a.downloadTotal !== b.downloadTotal;
}

function updateRegistration(registration, data) {
  const before = registration[_data];
  if (before[_settledResult]) return;
  // `recordsAvailable` is owned by the event lifetime, not by progress.
  const next = { ...data, recordsAvailable: before.recordsAvailable && data.recordsAvailable };
  registration[_data] = next;
  if (data.result !== "") next[_settledResult] = true;
  if (changed(before, next)) registration.dispatchEvent(new Event("progress"));
}

function registrationObject(data, scope) {
  const registration = new BackgroundFetchRegistration(illegal, data, scope);
  // Progress is best effort: a subscription that fails leaves the object
  // with the state it was made from.
  PromisePrototypeCatch(followProgress(registration), () => {});
  return registration;
}

class BackgroundFetchRegistration extends EventTarget {
  constructor(key = undefined, data, scope) {
    if (key !== illegal) throw new TypeError("Illegal constructor");
    super();
    setEventTargetData(this);
    this[webidl.brand] = webidl.brand;
    this[_data] = { ...data };
    this[_scope] = scope;
  }

  async abort() {
    webidl.assertBranded(this, BackgroundFetchRegistrationPrototype);
    return await op_swrt_bgfetch_abort(this[_data].uniqueId);
  }

  async match(request, options = {}) {
    webidl.assertBranded(this, BackgroundFetchRegistrationPrototype);
    const prefix = "Failed to execute 'match' on 'BackgroundFetchRegistration'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    const records = await matchRecords(this, prefix, request, options);
    return records[0];
  }

  async matchAll(request = undefined, options = {}) {
    webidl.assertBranded(this, BackgroundFetchRegistrationPrototype);
    const prefix = "Failed to execute 'matchAll' on 'BackgroundFetchRegistration'";
    return await matchRecords(this, prefix, request, options);
  }
}
const BackgroundFetchRegistrationPrototype = BackgroundFetchRegistration.prototype;

// IDL attributes are enumerable accessors on the prototype, so code that
// copies a registration with for...in sees them.
/** An IDL attribute getter: named "get NAME", brand-checked, enumerable. */
function defineAttribute(proto, name, read) {
  const holder = {
    get [name]() {
      webidl.assertBranded(this, proto);
      return read(this);
    },
  };
  const descriptor = ObjectGetOwnPropertyDescriptor(holder, name);
  ObjectDefineProperty(proto, name, { get: descriptor.get, enumerable: true, configurable: true });
}

for (const name of [
  "id", "uploadTotal", "uploaded", "downloadTotal", "downloaded", "result", "failureReason",
]) {
  defineAttribute(BackgroundFetchRegistrationPrototype, name, (self) => self[_data][name]);
}
defineAttribute(BackgroundFetchRegistrationPrototype, "recordsAvailable", recordsAvailable);

function recordsAvailable(registration) {
  const data = registration[_data];
  return data.recordsAvailable && !releasedRecords.has(data.uniqueId);
}

// onprogress: an EventHandler attribute (HTML "event handler IDL attribute").
const _onprogress = Symbol("onprogress");
{
  const holder = {
    get onprogress() {
      webidl.assertBranded(this, BackgroundFetchRegistrationPrototype);
      return this[_onprogress] ?? null;
    },
    set onprogress(value) {
      webidl.assertBranded(this, BackgroundFetchRegistrationPrototype);
      if (this[_onprogress]) this.removeEventListener("progress", this[_onprogress]);
      this[_onprogress] = typeof value === "function" ? value : null;
      if (this[_onprogress]) this.addEventListener("progress", this[_onprogress]);
    },
  };
  const descriptor = ObjectGetOwnPropertyDescriptor(holder, "onprogress");
  ObjectDefineProperty(BackgroundFetchRegistrationPrototype, "onprogress", { ...descriptor, enumerable: true });
}
webidl.configureInterface(BackgroundFetchRegistration);
for (const name of ["abort", "match", "matchAll"]) {
  ObjectDefineProperty(BackgroundFetchRegistrationPrototype, name, { enumerable: true });
}

async function matchRecords(registration, prefix, request, options) {
  options = webidl.converters.CacheQueryOptions(options, prefix, "Argument 2");
  if (!recordsAvailable(registration)) {
    throw new DOMException(`${prefix}: The records associated with this background fetch are no longer available.`, "InvalidStateError");
  }
  let query = null;
  if (request !== undefined) {
    const r = request instanceof Request ? request : new Request(request);
    query = {
      method: r.method,
      url: r.url,
      headers: ArrayFrom(r.headers),
      mode: r.mode,
      credentials: r.credentials,
      body: null,
      integrity: r.integrity,
    };
  }
  const uniqueId = registration[_data].uniqueId;
  let found;
  try {
    found = await op_swrt_bgfetch_match_all(uniqueId, query, options);
  } catch (error) {
    // The engine released the records (the event ended in another realm):
    // recordsAvailable says so from now on, before the notice arrives.
    if (error instanceof DOMException && error.name === "InvalidStateError") releasedRecords.add(uniqueId);
    throw error;
  }
  return ArrayPrototypeMap(found, (record) => recordObject(uniqueId, record));
}

// --- BackgroundFetchRecord -------------------------------------------------

class BackgroundFetchRecord {
  constructor() {
    webidl.illegalConstructor();
  }
  get request() {
    webidl.assertBranded(this, BackgroundFetchRecordPrototype);
    const record = this[_record];
    this[_request] ??= requestFromSpec(record.uniqueId, record.index, record.request, record.hasRequestBody);
    return this[_request];
  }
  get responseReady() {
    // A promise-typed attribute reports a brand failure as a rejection (WebIDL).
    try {
      webidl.assertBranded(this, BackgroundFetchRecordPrototype);
    } catch (error) {
      return PromiseReject(error);
    }
    if (this[_responseReady] === undefined) {
      this[_responseReady] = responseFor(this[_record].uniqueId, this[_record].index);
      // An unobserved rejection (aborted record) is not an uncaught error.
      PromisePrototypeCatch(this[_responseReady], () => {});
    }
    return this[_responseReady];
  }
}
webidl.configureInterface(BackgroundFetchRecord);
const BackgroundFetchRecordPrototype = BackgroundFetchRecord.prototype;

// A record holds only what identifies it: the engine keeps its bodies (the
// realm pinned them in matchAll), and its Request and Response are made when
// first used, so a fetch of 100,000 records fits in a worker's heap.
function recordObject(uniqueId, record) {
  const object = webidl.createBranded(BackgroundFetchRecord);
  record.uniqueId = uniqueId;
  object[_record] = record;
  return object;
}

/**
 * A small body read along with the response head. A handler keeps its
 * records, and with them their responses, for the whole event: once read,
 * the body lets go of its bytes.
 */
class RecordStaticBody extends InnerBody {
  consume() {
    const bytes = super.consume();
    if (typeof this.streamOrStatic.consumed === "boolean") this.streamOrStatic.body = EMPTY_BODY;
    return bytes;
  }
}
const EMPTY_BODY = new Uint8Array();

async function responseFor(uniqueId, index) {
  const r = await op_swrt_bgfetch_response(uniqueId, index);
  const inner = new RecordInnerResponse(r);
  if (r.bodyBytes !== null) {
    inner.body = new RecordStaticBody({ body: r.bodyBytes, consumed: false });
  } else if (r.bodyRid !== null) {
    inner.body = new InnerBody(streams.readableStreamForRid(r.bodyRid));
  }
  return fromInnerResponse(inner, "immutable");
}

// --- BackgroundFetchManager ------------------------------------------------

class BackgroundFetchManager {
  constructor() {
    webidl.illegalConstructor();
  }

  async fetch(id, requests, options = {}) {
    webidl.assertBranded(this, BackgroundFetchManagerPrototype);
    const prefix = "Failed to execute 'fetch' on 'BackgroundFetchManager'";
    webidl.requiredArguments(arguments.length, 2, prefix);
    id = webidl.converters.DOMString(id, prefix, "Argument 1");
    options = webidl.converters.BackgroundFetchOptions(options, prefix, "Argument 3");
    // Step 1: a single request becomes a list; an empty list is a TypeError.
    const list = isSequence(requests) ? ArrayFrom(requests) : [requests];
    if (list.length === 0) throw new TypeError(`${prefix}: At least one request must be given.`);
    const specs = [];
    for (const input of list) {
      // Step 2: each entry goes through the Request constructor.
      const request = input instanceof Request ? input : new Request(input);
      if (request.mode === "no-cors") {
        throw new TypeError(`${prefix}: Requests with 'no-cors' mode are not allowed.`);
      }
      specs.push(await requestSpec(request));
    }
    const base = globalThis.location?.href;
    const result = await op_swrt_bgfetch_fetch(
      this[_scope],
      id,
      specs,
      { title: options.title ?? "", icons: icons(options.icons, base), download_total: options.downloadTotal },
      cspProvider(),
    );
    if (result.quotaExceeded) {
      // fetch() step 4 (and the engine's other storage limits): a
      // QuotaExceededError that says what was requested and the quota.
      const { message, quota, requested } = result.quotaExceeded;
      const details = {};
      if (quota !== null) details.quota = quota;
      if (requested !== null) details.requested = requested;
      throw new QuotaExceededError(`${prefix}: ${message}`, details);
    }
    return registrationObject(result.registered, this[_scope]);
  }

  async get(id) {
    webidl.assertBranded(this, BackgroundFetchManagerPrototype);
    const prefix = "Failed to execute 'get' on 'BackgroundFetchManager'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    id = webidl.converters.DOMString(id, prefix, "Argument 1");
    const data = await op_swrt_bgfetch_get(this[_scope], id);
    return data === null ? undefined : registrationObject(data, this[_scope]);
  }

  async getIds() {
    webidl.assertBranded(this, BackgroundFetchManagerPrototype);
    return await op_swrt_bgfetch_ids(this[_scope]);
  }
}
webidl.configureInterface(BackgroundFetchManager);
const BackgroundFetchManagerPrototype = BackgroundFetchManager.prototype;
// Method lengths as the IDL declares (optional arguments do not count).
ObjectDefineProperty(BackgroundFetchManagerPrototype.fetch, "length", { value: 2 });
ObjectDefineProperty(BackgroundFetchRegistrationPrototype.matchAll, "length", { value: 0 });
ObjectDefineProperty(BackgroundFetchRegistrationPrototype.match, "length", { value: 1 });

// ServiceWorkerRegistration.prototype.backgroundFetch: [SameObject].
const _manager = Symbol("backgroundFetch manager");
{
  const holder = {
    get backgroundFetch() {
      if (!(this instanceof ServiceWorkerRegistration)) throw new TypeError("Illegal invocation");
      if (this[_manager] === undefined) {
        this[_manager] = webidl.createBranded(BackgroundFetchManager);
        this[_manager][_scope] = this.scope;
      }
      return this[_manager];
    },
  };
  ObjectDefineProperty(ServiceWorkerRegistration.prototype, "backgroundFetch", {
    get: ObjectGetOwnPropertyDescriptor(holder, "backgroundFetch").get,
    enumerable: true,
    configurable: true,
  });
}

// --- Events ----------------------------------------------------------------

const eventInitMembers = [
  ...EVENT_INIT_MEMBERS,
  {
    key: "registration",
    converter: (v, prefix, context) => {
      if (!(v instanceof BackgroundFetchRegistration)) {
        throw new TypeError(`${prefix}: ${context} is not of type 'BackgroundFetchRegistration'.`);
      }
      return v;
    },
    required: true,
  },
];
webidl.converters.BackgroundFetchEventInit = webidl.createDictionaryConverter("BackgroundFetchEventInit", eventInitMembers);

class BackgroundFetchEvent extends ExtendableEvent {
  constructor(type, init) {
    const prefix = `Failed to construct '${new.target.name}'`;
    webidl.requiredArguments(arguments.length, 2, prefix);
    type = webidl.converters.DOMString(type, prefix, "Argument 1");
    init = webidl.converters.BackgroundFetchEventInit(init, prefix, "Argument 2");
    super(type, init);
    this[_registration] = init.registration;
  }
  get registration() {
    webidl.assertBranded(this, BackgroundFetchEventPrototype);
    return this[_registration];
  }
}
webidl.configureInterface(BackgroundFetchEvent);
const BackgroundFetchEventPrototype = BackgroundFetchEvent.prototype;

class BackgroundFetchUpdateUIEvent extends BackgroundFetchEvent {
  constructor(type, init) {
    const prefix = "Failed to construct 'BackgroundFetchUpdateUIEvent'";
    webidl.requiredArguments(arguments.length, 2, prefix);
    super(type, init);
    this[_updateUICalled] = false;
  }

  async updateUI(options = {}) {
    webidl.assertBranded(this, BackgroundFetchUpdateUIEventPrototype);
    const prefix = "Failed to execute 'updateUI' on 'BackgroundFetchUpdateUIEvent'";
    options = webidl.converters.BackgroundFetchUIOptions(options, prefix, "Argument 1");
    // updateUI steps: the event must be trusted and active, and updateUI
    // may be called only once per event.
    if (!this.isTrusted) throw new DOMException(`${prefix}: The event is not trusted.`, "InvalidStateError");
    if (!isActive(this)) {
      throw new DOMException(`${prefix}: The event is no longer active.`, "InvalidStateError");
    }
    if (this[_updateUICalled]) {
      throw new DOMException(`${prefix}: updateUI may only be called once.`, "InvalidStateError");
    }
    if (options.title === "") throw new TypeError(`${prefix}: The title may not be empty.`);
    this[_updateUICalled] = true;
    // Keep the event alive until the host has the new UI.
    const pending = op_swrt_bgfetch_update_ui(
      this[_registration][_data].uniqueId,
      options.title ?? null,
      options.icons === undefined ? null : icons(options.icons, globalThis.location?.href),
    );
    this.waitUntil(pending);
    await pending;
  }
}
webidl.configureInterface(BackgroundFetchUpdateUIEvent);
const BackgroundFetchUpdateUIEventPrototype = BackgroundFetchUpdateUIEvent.prototype;
ObjectDefineProperty(BackgroundFetchUpdateUIEventPrototype.updateUI, "length", { value: 0 });

const UPDATE_UI_EVENTS = ["backgroundfetchsuccess", "backgroundfetchfail"];

/** A trusted event for the host's dispatch of `type` with `data.registration`. */
function createBackgroundFetchEvent(type, data, scope) {
  const registration = registrationObject(data.registration, scope);
  registration[_data].recordsAvailable = true;
  // A success/fail event offered again (its first dispatch did not
  // complete) makes the records available for its own lifetime.
  if (type !== "backgroundfetchclick") releasedRecords.delete(data.registration.uniqueId);
  const Class = UPDATE_UI_EVENTS.includes(type) ? BackgroundFetchUpdateUIEvent : BackgroundFetchEvent;
  const event = new Class(type, { registration });
  // Background Fetch "fire a background fetch event" (success/fail): once
  // the event's lifetime (waitUntil included) ends, recordsAvailable is
  // false for the registration, on every object that represents it.
  setAfterLifetime(event, () => {
    if (type !== "backgroundfetchclick") releasedRecords.add(data.registration.uniqueId);
  });
  return event;
}

function setCspProvider(provider) {
  cspProvider = provider;
}

function backgroundFetchDescriptors(serviceWorker) {
  const d = (value) => ({ value, writable: true, enumerable: false, configurable: true });
  const out = {
    BackgroundFetchManager: d(BackgroundFetchManager),
    BackgroundFetchRegistration: d(BackgroundFetchRegistration),
    BackgroundFetchRecord: d(BackgroundFetchRecord),
  };
  if (serviceWorker) {
    out.BackgroundFetchEvent = d(BackgroundFetchEvent);
    out.BackgroundFetchUpdateUIEvent = d(BackgroundFetchUpdateUIEvent);
  }
  return out;
}

void ArrayIsArray;
void ObjectFreeze;
void PromiseReject;
void RequestPrototype;
void headersModule;

return {
  BackgroundFetchEvent,
  BackgroundFetchRegistration,
  BackgroundFetchUpdateUIEvent,
  backgroundFetchDescriptors,
  createBackgroundFetchEvent,
  setCspProvider,
};
})();

// FetchEvent (Service Workers section 4.6): a controlled page's fetch()
// reaches its worker; respondWith() answers it, otherwise the page goes to
// the network.
(function () {
const { core, primordials } = __bootstrap;
const { domException, rejectionsAsPromise, request: requestModule, response: responseModule, webidl } = core.loadExtScript(
  "ext:swrt/01_web_platform.js",
);
const { EVENT_INIT_MEMBERS, ExtendableEvent, extendLifetime, isDispatching, setAfterDispatch } = core.loadExtScript(
  "ext:swrt/20_extendable_event.js",
);
const { op_swrt_fetch_event_respond, op_swrt_take_body } = core.ops;
const {
  ArrayFrom,
  ObjectDefineProperty,
  ObjectPrototypeIsPrototypeOf,
  Promise,
  PromisePrototypeThen,
  PromiseReject,
  PromiseResolve,
  Symbol,
  TypeError,
  Uint8Array,
} = primordials;
const { DOMException } = domException;
const { Request, toInnerRequest } = requestModule;
const { Response, ResponsePrototype } = responseModule;

const _request = Symbol("request");
const _clientId = Symbol("clientId");
const _resultingClientId = Symbol("resultingClientId");
const _replacesClientId = Symbol("replacesClientId");
const _preloadResponse = Symbol("preloadResponse");
const _settleHandled = Symbol("settle handled");
const _handled = Symbol("handled");
const _respondWithEntered = Symbol("respond-with entered flag");
const _requestId = Symbol("host request id");

webidl.converters.FetchEventInit = webidl.createDictionaryConverter("FetchEventInit", EVENT_INIT_MEMBERS, [
  {
    key: "request",
    converter: (v, prefix, context) => {
      if (!(v instanceof Request)) throw new TypeError(`${prefix}: ${context} is not of type 'Request'.`);
      return v;
    },
    required: true,
  },
  { key: "clientId", converter: webidl.converters.DOMString, defaultValue: "" },
  { key: "resultingClientId", converter: webidl.converters.DOMString, defaultValue: "" },
  { key: "replacesClientId", converter: webidl.converters.DOMString, defaultValue: "" },
  { key: "handled", converter: webidl.converters.any },
]);

function answer(requestId, meta, bytes) {
  if (requestId === undefined) return;
  op_swrt_fetch_event_respond(requestId, meta, bytes ?? new Uint8Array(0));
}

class FetchEvent extends ExtendableEvent {
  constructor(type, init) {
    const prefix = "Failed to construct 'FetchEvent'";
    webidl.requiredArguments(arguments.length, 2, prefix);
    type = webidl.converters.DOMString(type, prefix, "Argument 1");
    init = webidl.converters.FetchEventInit(init, prefix, "Argument 2");
    super(type, init);
    this[_request] = init.request;
    this[_clientId] = init.clientId;
    this[_resultingClientId] = init.resultingClientId;
    this[_replacesClientId] = init.replacesClientId;
    this[_handled] = init.handled ?? new Promise(() => {});
    this[_settleHandled] = null;
    // A constructed event, and a navigation without preload, have none.
    this[_preloadResponse] = PromiseResolve(undefined);
    this[_respondWithEntered] = false;
  }
  get request() {
    webidl.assertBranded(this, FetchEventPrototype);
    return this[_request];
  }
  get clientId() {
    webidl.assertBranded(this, FetchEventPrototype);
    return this[_clientId];
  }
  get resultingClientId() {
    webidl.assertBranded(this, FetchEventPrototype);
    return this[_resultingClientId];
  }
  get replacesClientId() {
    webidl.assertBranded(this, FetchEventPrototype);
    return this[_replacesClientId];
  }
  get handled() {
    return rejectionsAsPromise(() => {
      webidl.assertBranded(this, FetchEventPrototype);
      return this[_handled];
    });
  }
  get preloadResponse() {
    return rejectionsAsPromise(() => {
      webidl.assertBranded(this, FetchEventPrototype);
      return this[_preloadResponse];
    });
  }

  // respondWith(r): section 4.6.7.
  respondWith(r) {
    webidl.assertBranded(this, FetchEventPrototype);
    const prefix = "Failed to execute 'respondWith' on 'FetchEvent'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    if (!isDispatching(this)) {
      throw new DOMException(`${prefix}: The event handler is already finished.`, "InvalidStateError");
    }
    if (this[_respondWithEntered]) {
      throw new DOMException(`${prefix}: The event has already been responded to.`, "InvalidStateError");
    }
    this[_respondWithEntered] = true;
    const requestId = this[_requestId];
    const settled = (async () => {
      let response;
      try {
        response = await r;
      } catch (error) {
        answer(requestId, errorMeta(`the promise rejected: ${error?.message ?? error}`), null);
        this[_settleHandled]?.(false);
        return;
      }
      if (response === null || typeof response !== "object" || !ObjectPrototypeIsPrototypeOf(ResponsePrototype, response)) {
        answer(requestId, errorMeta("the value is not a Response"), null);
        this[_settleHandled]?.(false);
        return;
      }
      if (response.bodyUsed) {
        answer(requestId, errorMeta("the Response body is already used"), null);
        this[_settleHandled]?.(false);
        return;
      }
      const bytes = response.body === null ? null : new Uint8Array(await response.arrayBuffer());
      answer(requestId, {
        status: response.status,
        statusText: response.statusText,
        headers: ArrayFrom(response.headers),
        urlList: response.url ? [response.url] : [],
        responseType: response.type,
        error: null,
      }, bytes);
      this[_settleHandled]?.(true);
    })();
    extendLifetime(this, settled);
  }
}
webidl.configureInterface(FetchEvent);
const FetchEventPrototype = FetchEvent.prototype;

/** The navigation preload's answer as a Response, or its network error as a TypeError. */
function preloadResponse(preload) {
  if (preload.error) {
    const rejected = PromiseReject(new TypeError(`The navigation preload request failed: ${preload.error}`));
    PromisePrototypeThen(rejected, undefined, () => {});
    return rejected;
  }
  const bytes = preload.bodyId === undefined ? null : op_swrt_take_body(preload.bodyId);
  const nullBody = preload.status === 204 || preload.status === 205 || preload.status === 304;
  return PromiseResolve(new Response(nullBody ? null : bytes, {
    status: preload.status,
    statusText: preload.statusText,
    headers: preload.headers,
  }));
}

function errorMeta(message) {
  return { status: 0, statusText: "", headers: [], urlList: [], responseType: "error", error: message };
}

/**
 * The trusted FetchEvent for a controlled page's request, or for the
 * navigation that loads a page in the worker's scope (mode "navigate",
 * which script cannot construct, and the new page's resultingClientId).
 */
function createFetchEvent(data) {
  const init = { method: data.method, headers: data.headers, credentials: data.credentials, redirect: data.redirect };
  if (data.mode !== "navigate") init.mode = data.mode;
  // The body waits in this realm's mailbox as bytes; take it either way.
  const body = data.bodyId === undefined ? null : op_swrt_take_body(data.bodyId);
  if (body !== null && data.method !== "GET" && data.method !== "HEAD") init.body = body;
  const request = new Request(data.url, init);
  if (data.mode === "navigate") toInnerRequest(request).mode = "navigate";
  if (data.destination) toInnerRequest(request).destination = data.destination;
  // Handle Fetch: the event's handled promise resolves once the response
  // (or the fallback to the network) is passed on, and rejects with a
  // NetworkError when the fetch fails because of the event.
  let resolveHandled;
  let rejectHandled;
  const handled = new Promise((resolve, reject) => {
    resolveHandled = resolve;
    rejectHandled = reject;
  });
  // A rejection nobody listens to is not an error of the worker's script.
  PromisePrototypeThen(handled, undefined, () => {});
  const event = new FetchEvent("fetch", {
    request,
    // Handle Fetch: the event is cancelable.
    cancelable: true,
    clientId: data.clientId ?? "",
    resultingClientId: data.resultingClientId ?? "",
    replacesClientId: data.replacesClientId ?? "",
    handled,
  });
  event[_requestId] = data.requestId;
  if (data.preload) event[_preloadResponse] = preloadResponse(data.preload);
  event[_settleHandled] = (ok) => {
    event[_settleHandled] = null;
    if (ok) resolveHandled(undefined);
    else rejectHandled(new DOMException("The service worker did not handle the request.", "NetworkError"));
  };
  setAfterDispatch(event, () => {
    if (event[_respondWithEntered]) return;
    // Handle Fetch: a canceled event without respondWith() is a network
    // error; otherwise the request goes to the network.
    if (event.defaultPrevented) {
      answer(data.requestId, errorMeta("the fetch event was canceled"), null);
      event[_settleHandled](false);
    } else {
      answer(data.requestId, null, null);
      event[_settleHandled](true);
    }
  });
  return event;
}

function fetchEventDescriptors() {
  return { FetchEvent: { value: FetchEvent, writable: true, enumerable: false, configurable: true } };
}

void ObjectDefineProperty;

return { createFetchEvent, fetchEventDescriptors, FetchEvent };
})();

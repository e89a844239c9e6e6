// Entry point of a page (window client) realm: builds a Window global with
// its document and navigator.serviceWorker, then runs the loop that
// receives the host's commands. A page loaded from HTML is parsed into its
// document (Symbol.for("swrt.loadDocument")); a page given as a script runs
// in a document that has just <html>, <head> and <body>.
(function () {
const { core, primordials } = __bootstrap;
const {
  globalInterfaces,
  installGlobalScope,
  location: locationModule,
  event: eventModule,
  nonEnumerable,
  webGlobalDescriptors,
  webidl,
  indexedDbModule,
} = core.loadExtScript("ext:swrt/01_web_platform.js");
const { consoleDescriptor } = core.loadExtScript("ext:swrt/02_console.js");
const { cryptoDescriptors } = core.loadExtScript("ext:swrt/03_crypto.js");
const { hideInternals, installErrorReporting, runCommandLoop } = core.loadExtScript("ext:swrt/04_realm.js");
const { connectSrcOf } = core.loadExtScript("ext:swrt/05_content_security_policy.js");
const { createFetch, fetch, fetchSubresource, setConnectSrcProvider, setControllerFetch } = core.loadExtScript("ext:swrt/10_fetch.js");
const { serviceWorkerObjectDescriptors } = core.loadExtScript("ext:swrt/30_service_worker_objects.js");
const { containerDescriptors, createContainer, enableClientMessages, onController, onMessage, onRegistration, removeContainer } = core.loadExtScript(
  "ext:swrt/50_service_worker_container.js",
);
const { createDocument, domDescriptors } = core.loadExtScript("ext:swrt/60_dom.js");
const { configureDocument, contentSecurityPolicies, loadHtml, runClassic } = core.loadExtScript("ext:swrt/61_html_document.js");
const frames = core.loadExtScript("ext:swrt/62_frames.js");
const { backgroundFetchDescriptors, setCspProvider } = core.loadExtScript("ext:swrt/70_background_fetch.js");
const { backgroundSyncDescriptors } = core.loadExtScript("ext:swrt/72_background_sync.js");
const { cacheDescriptors, cachesAttribute } = core.loadExtScript("ext:swrt/71_cache.js");
const { ownerCommandHandlers, workerConstructorDescriptors } = core.loadExtScript("ext:swrt/55_workers.js");

const { op_swrt_page_info, op_swrt_fetch_event, op_swrt_frame_loaded } = core.ops;
const { ObjectDefineProperties, ObjectDefineProperty, Symbol, SymbolFor, SymbolToStringTag, TypeError } = primordials;
const { Window } = globalInterfaces;
const { Event, MessageEvent, EventTargetPrototype, defineEventHandler, setEventTargetData } = eventModule;

const illegal = Symbol("illegal constructor");

const _serviceWorker = Symbol("service worker container");

class Navigator {
  constructor(key = undefined, serviceWorker) {
    if (key !== illegal) throw new TypeError("Illegal constructor");
    this[webidl.brand] = webidl.brand;
    this[_serviceWorker] = serviceWorker;
  }
  get serviceWorker() {
    webidl.assertBranded(this, Navigator.prototype);
    return this[_serviceWorker];
  }
  get userAgent() { return "swrt/0.1"; }
  get language() { return "en-US"; }
  get languages() { return ["en-US"]; }
  get onLine() { return core.ops.op_swrt_host_online(); }
  get hardwareConcurrency() { return 2; }
  get storage() { return indexedDbModule().storage; }
  get [SymbolToStringTag]() { return "Navigator"; }
}
webidl.configureInterface(Navigator);

for (const name of ["load", "message", "messageerror", "unhandledrejection", "rejectionhandled", "beforeunload", "unload", "pageshow"]) {
  defineEventHandler(Window.prototype, name);
}
// HTML: window.onerror is called with (message, source, lineno, colno, error).
defineEventHandler(Window.prototype, "error", undefined, true);


/** A frame's location: reading it, and navigating the frame by setting it. */
class FrameLocation {
  #frame;
  constructor(key, frame) {
    if (key !== illegal) throw new TypeError("Illegal constructor");
    this.#frame = frame;
  }
  #url() { return new URL(this.#frame.url); }
  get href() { return this.#frame.url; }
  set href(value) { this.assign(value); }
  get origin() { return this.#frame.url.startsWith("about:") ? this.#frame.parent.window.location.origin : this.#url().origin; }
  get protocol() { return this.#url().protocol; }
  get host() { return this.#url().host; }
  get hostname() { return this.#url().hostname; }
  get port() { return this.#url().port; }
  get pathname() { return this.#url().pathname; }
  get search() { return this.#url().search; }
  get hash() { return this.#url().hash; }
  assign(url) { frames.navigateFrame(this.#frame, new URL(url, this.#frame.document.baseURI).href); }
  replace(url) { this.assign(url); }
  reload() { frames.navigateFrame(this.#frame, this.#frame.url); }
  toString() { return this.href; }
  get [SymbolToStringTag]() { return "Location"; }
}

/**
 * HTML window.postMessage between same-origin windows: the message is
 * structured-cloned and delivered as a task. (`source` is not tracked: it
 * is null.)
 */
function postMessageTo(target) {
  return function postMessage(message, targetOrigin = undefined, transfer = undefined) {
    const options = typeof targetOrigin === "object" && targetOrigin !== null ? targetOrigin : { targetOrigin, transfer };
    const data = structuredClone(message, { transfer: options.transfer ?? [] });
    const origin = target.location.origin;
    const wanted = options.targetOrigin ?? "/";
    if (wanted !== "*" && wanted !== "/" && new URL(wanted).origin !== origin) return;
    setTimeout(() => target.dispatchEvent(new MessageEvent("message", { data, origin, source: null })), 0);
  };
}

function bootstrap() {
  delete globalThis[SymbolFor("swrt.bootstrap")];
  const info = op_swrt_page_info();
  locationModule.setLocationHref(info.url);
  const container = createContainer(info.url, info.controller);
  const navigator = new Navigator(illegal, container);
  const document = createDocument(info.url);
  document.defaultView = globalThis;
  configureDocument(document, {
    window: globalThis,
    csp: info.csp,
    fetchScriptText: async (url) => {
      const response = await fetchSubresource(url, "script");
      // HTML "fetch a classic script": a status outside 200-299 is a network error.
      if (!response.ok) throw new TypeError(`HTTP status ${response.status}`);
      return await response.text();
    },
    runClassic,
  });
  if (!info.document) {
    const html = document.appendChild(document.createElement("html"));
    html.appendChild(document.createElement("head"));
    html.appendChild(document.createElement("body"));
  }
  // The web platform every window of this page has: the page's own, and its
  // frames' (whose built-ins are their own, and whose web APIs are these).
  const platform = {
    ...webGlobalDescriptors(),
    ...cryptoDescriptors(),
    ...serviceWorkerObjectDescriptors(),
    ...containerDescriptors(),
    ...domDescriptors(),
    ...backgroundFetchDescriptors(false),
    ...backgroundSyncDescriptors(false),
    ...cacheDescriptors(),
    caches: cachesAttribute(Window.prototype),
    ...workerConstructorDescriptors(true),
    console: consoleDescriptor(),
    Window: nonEnumerable(Window),
    Navigator: nonEnumerable(Navigator),
    Location: locationModule.locationConstructorDescriptor,
  };
  ObjectDefineProperties(globalThis, platform);
  setCspProvider(() => connectSrcOf(contentSecurityPolicies(document)));
  setConnectSrcProvider((client) => connectSrcOf(contentSecurityPolicies(client?.document ?? document)));
  // Handle Fetch: a controlled page's (or frame's) requests go to its
  // service worker first.
  setControllerFetch(async (request, body, client) => {
    const own = client ?? { id: null, container };
    if (own.container.controller === null) return null;
    return await op_swrt_fetch_event(request, body, own.id);
  });

  // A cross-origin frame reaches its parent only through postMessage.
  const parentWindow = info.parent === null
    ? globalThis
    : frames.remoteWindow(info.parent.clientId, info.parent.origin, info.clientId);
  ObjectDefineProperties(globalThis, {
    fetch: nonEnumerable(fetch),
    location: locationModule.locationDescriptor,
    window: { get: () => globalThis, enumerable: true, configurable: true },
    top: { get: () => parentWindow, enumerable: true, configurable: true },
    parent: { get: () => parentWindow, enumerable: true, configurable: true },
    frames: { get: () => globalThis, enumerable: true, configurable: true },
    frameElement: { get: () => null, enumerable: true, configurable: true },
    document: { get: () => document, enumerable: true, configurable: true },
    navigator: { get: () => navigator, enumerable: true, configurable: true },
    origin: { get: () => new URL(info.url).origin, enumerable: true, configurable: true },
    isSecureContext: { get: () => info.secureContext, enumerable: true, configurable: true },
    name: { value: "", writable: true, enumerable: true, configurable: true },
    postMessage: nonEnumerable(postMessageTo(globalThis)),
  });
  installGlobalScope(Window.prototype);
  installErrorReporting(Window.prototype);
  hideInternals();

  frames.registerTopWindow(globalThis, document, info.clientId);
  frames.setWindowSetup((window, frame) => {
    // A frame's client: its own container and fetch once it has a URL of
    // its own; about:blank and srcdoc frames share their parent's.
    const own = frame.clientId !== frame.parent.clientId;
    if (own && frame.container === undefined) {
      frame.container = createContainer(frame.url, frame.controller ?? null, frame.clientId);
      frame.onClientEnded = (clientId) => {
        removeContainer(clientId);
        frame.container = undefined;
      };
    }
    const client = own ? { id: frame.clientId, container: frame.container, document: frame.document } : null;
    frame.fetch = own ? createFetch(client) : fetch;
    frame.fetchSubresource = (url) => fetchSubresource(url, "script", client);
    const frameNavigator = own ? new Navigator(illegal, frame.container) : navigator;
    if (!frame.windowInstalled) {
      frame.windowInstalled = true;
      frame.location = new FrameLocation(illegal, frame);
      Object.setPrototypeOf(window, Window.prototype);
      ObjectDefineProperty(window, webidl.brand, nonEnumerable(webidl.brand));
      setEventTargetData(window);
      ObjectDefineProperties(window, platform);
    }
    let top = frame.parent;
    while (top.parent) top = top.parent;
    ObjectDefineProperties(window, {
      fetch: nonEnumerable(frame.fetch),
      location: { get: () => frame.location, set: (v) => frame.location.assign(v), enumerable: true, configurable: true },
      window: { get: () => window, enumerable: true, configurable: true },
      self: { get: () => window, enumerable: true, configurable: true },
      frames: { get: () => window, enumerable: true, configurable: true },
      top: { get: () => top.window, enumerable: true, configurable: true },
      parent: { get: () => frame.parent.window, enumerable: true, configurable: true },
      frameElement: { get: () => frame.iframe, enumerable: true, configurable: true },
      document: { get: () => frame.document, enumerable: true, configurable: true },
      navigator: { get: () => frameNavigator, enumerable: true, configurable: true },
      origin: { get: () => frame.location.origin, enumerable: true, configurable: true },
      isSecureContext: { get: () => info.secureContext, enumerable: true, configurable: true },
      name: { value: frame.iframe.getAttribute("name") ?? "", writable: true, enumerable: true, configurable: true },
      postMessage: nonEnumerable(postMessageTo(window)),
      // A script's unqualified addEventListener(...) calls these with no
      // `this`: they must act on this frame's window, not the page's.
      addEventListener: nonEnumerable((...args) => EventTargetPrototype.addEventListener.apply(window, args)),
      removeEventListener: nonEnumerable((...args) => EventTargetPrototype.removeEventListener.apply(window, args)),
      dispatchEvent: nonEnumerable((event) => Window.prototype.dispatchEvent.call(window, event)),
    });
  });

  if (info.document) {
    ObjectDefineProperty(globalThis, SymbolFor("swrt.loadDocument"), nonEnumerable(async (html) => {
      delete globalThis[SymbolFor("swrt.loadDocument")];
      try {
        await loadHtml(document, html, globalThis);
        if (info.parent !== null) op_swrt_frame_loaded();
      } finally {
        // HTML: a client's message queue is enabled when its document
        // finished loading (if startMessages() did not do it earlier).
        enableClientMessages(container);
      }
    }));
  } else {
    // The script runs as if the parser had reached the end of the document:
    // DOMContentLoaded and load follow once it has run to its first yield.
    setTimeout(() => {
      document._readyState = "complete";
      enableClientMessages(container);
      document.dispatchEvent(new Event("DOMContentLoaded", { bubbles: true }));
      globalThis.dispatchEvent(new Event("load"));
      if (info.parent !== null) op_swrt_frame_loaded();
    }, 0);
  }
  runCommandLoop({
    ...ownerCommandHandlers,
    registration(command) {
      onRegistration(command.registration);
    },
    controller(command) {
      onController(command.controller, command.clientId, info.clientId);
    },
    message(command) {
      onMessage(command.messageId, command.source, command.clientId, info.clientId);
    },
    windowMessage(command) {
      frames.onWindowMessage(command);
    },
    frameLoaded(command) {
      frames.onFrameLoaded(command.frameClientId);
    },
  });
}
ObjectDefineProperty(globalThis, SymbolFor("swrt.bootstrap"), nonEnumerable(bootstrap));
})();

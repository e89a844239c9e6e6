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
} = core.loadExtScript("ext:swrt/01_web_platform.js");
const { consoleDescriptor } = core.loadExtScript("ext:swrt/02_console.js");
const { cryptoDescriptors } = core.loadExtScript("ext:swrt/03_crypto.js");
const { hideInternals, installErrorReporting, runCommandLoop } = core.loadExtScript("ext:swrt/04_realm.js");
const { fetch, fetchSubresource, setConnectSrcProvider, setControllerFetch } = core.loadExtScript("ext:swrt/10_fetch.js");
const { serviceWorkerObjectDescriptors } = core.loadExtScript("ext:swrt/30_service_worker_objects.js");
const { containerDescriptors, createContainer, enableClientMessages, onController, onMessage, onRegistration } = core.loadExtScript(
  "ext:swrt/50_service_worker_container.js",
);
const { createDocument, domDescriptors } = core.loadExtScript("ext:swrt/60_dom.js");
const { contentSecurityPolicies, loadHtml, setFetchScriptText } = core.loadExtScript("ext:swrt/61_html_document.js");
const { backgroundFetchDescriptors, onProgress, setCspProvider } = core.loadExtScript("ext:swrt/70_background_fetch.js");
const { cacheDescriptors } = core.loadExtScript("ext:swrt/71_cache.js");

const { op_swrt_page_info, op_swrt_fetch_event } = core.ops;
const { ObjectDefineProperties, ObjectDefineProperty, Symbol, SymbolFor, SymbolToStringTag, TypeError } = primordials;
const { Window } = globalInterfaces;
const { Event, defineEventHandler } = eventModule;

const illegal = Symbol("illegal constructor");

class Navigator {
  constructor(key = undefined, serviceWorker) {
    if (key !== illegal) throw new TypeError("Illegal constructor");
    this.serviceWorkerContainer = serviceWorker;
  }
  get serviceWorker() { return this.serviceWorkerContainer; }
  get userAgent() { return "swrt/0.1"; }
  get language() { return "en-US"; }
  get languages() { return ["en-US"]; }
  get onLine() { return true; }
  get hardwareConcurrency() { return 2; }
  get [SymbolToStringTag]() { return "Navigator"; }
}

for (const name of ["error", "load", "message", "messageerror", "unhandledrejection", "rejectionhandled", "beforeunload", "unload"]) {
  defineEventHandler(Window.prototype, name);
}


/** The connect-src (or default-src) source list of the page's CSP, or null. */
function connectSrc(policies) {
  let result = null;
  for (const policy of policies) {
    const directives = new Map();
    for (const part of policy.split(";")) {
      const [name, ...values] = part.trim().split(/\s+/);
      if (name) directives.set(name.toLowerCase(), values);
    }
    const list = directives.get("connect-src") ?? directives.get("default-src");
    // Several policies must all allow a request; keep the most restrictive
    // one we can express (the last one that restricts connect-src).
    if (list !== undefined) result = list;
  }
  return result;
}

function bootstrap() {
  delete globalThis[SymbolFor("swrt.bootstrap")];
  const info = op_swrt_page_info();
  locationModule.setLocationHref(info.url);
  const container = createContainer(info.url, info.controller);
  const navigator = new Navigator(illegal, container);
  const document = createDocument(info.url);
  document.defaultView = globalThis;
  if (!info.document) {
    const html = document.appendChild(document.createElement("html"));
    html.appendChild(document.createElement("head"));
    html.appendChild(document.createElement("body"));
  }
  setFetchScriptText(async (url) => {
    const response = await fetchSubresource(url, "script");
    // HTML "fetch a classic script": a status outside 200-299 is a network error.
    if (!response.ok) throw new TypeError(`HTTP status ${response.status}`);
    return await response.text();
  });
  ObjectDefineProperties(globalThis, webGlobalDescriptors());
  ObjectDefineProperties(globalThis, cryptoDescriptors());
  ObjectDefineProperties(globalThis, serviceWorkerObjectDescriptors());
  ObjectDefineProperties(globalThis, containerDescriptors());
  ObjectDefineProperties(globalThis, domDescriptors());
  ObjectDefineProperties(globalThis, backgroundFetchDescriptors(false));
  ObjectDefineProperties(globalThis, cacheDescriptors());
  setCspProvider(() => connectSrc(contentSecurityPolicies()));
  setConnectSrcProvider(() => connectSrc(contentSecurityPolicies()));
  // Handle Fetch: a controlled page's requests go to its service worker first.
  setControllerFetch(async (request, body) => {
    if (container.controller === null) return null;
    return await op_swrt_fetch_event(request, body);
  });

  ObjectDefineProperties(globalThis, {
    console: consoleDescriptor(),
    fetch: nonEnumerable(fetch),
    Window: nonEnumerable(Window),
    Navigator: nonEnumerable(Navigator),
    Location: locationModule.locationConstructorDescriptor,
    location: locationModule.locationDescriptor,
    window: { get: () => globalThis, enumerable: true, configurable: true },
    top: { get: () => globalThis, enumerable: true, configurable: true },
    parent: { get: () => globalThis, enumerable: true, configurable: true },
    frames: { get: () => globalThis, enumerable: true, configurable: true },
    document: { get: () => document, enumerable: true, configurable: true },
    navigator: { get: () => navigator, enumerable: true, configurable: true },
    origin: { get: () => new URL(info.url).origin, enumerable: true, configurable: true },
    isSecureContext: { get: () => info.secureContext, enumerable: true, configurable: true },
    name: { value: "", writable: true, enumerable: true, configurable: true },
  });
  installGlobalScope(Window.prototype);
  installErrorReporting(Window.prototype);
  hideInternals();
  if (info.document) {
    ObjectDefineProperty(globalThis, SymbolFor("swrt.loadDocument"), nonEnumerable(async (html) => {
      delete globalThis[SymbolFor("swrt.loadDocument")];
      try {
        await loadHtml(document, html, globalThis);
      } finally {
        // HTML: a client's message queue is enabled when its document
        // finished loading (if startMessages() did not do it earlier).
        enableClientMessages();
      }
    }));
  } else {
    // The script runs as if the parser had reached the end of the document:
    // DOMContentLoaded and load follow once it has run to its first yield.
    setTimeout(() => {
      document._readyState = "complete";
      enableClientMessages();
      document.dispatchEvent(new Event("DOMContentLoaded", { bubbles: true }));
      globalThis.dispatchEvent(new Event("load"));
    }, 0);
  }
  runCommandLoop({
    registration(command) {
      onRegistration(command.registration);
    },
    controller(command) {
      onController(command.controller);
    },
    message(command) {
      onMessage(command.messageId, command.source);
    },
    progress(command) {
      onProgress(command.registration, command.isFinal);
    },
  });
}
ObjectDefineProperty(globalThis, SymbolFor("swrt.bootstrap"), nonEnumerable(bootstrap));
})();

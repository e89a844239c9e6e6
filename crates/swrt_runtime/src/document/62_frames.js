// Iframes (HTML "nested browsing contexts"). A same-origin frame is a realm
// of its own in the page's isolate: its global object is a Window with its
// own built-ins, so `frame.contentWindow.fetch(...)` or
// `frame.contentWindow.navigator.serviceWorker` work synchronously from the
// parent, as in a browser. Each frame with a URL is a client of its own: the
// host decides which service worker controls it and answers its
// navigation. Removing the element discards the frame and ends its client.
(function () {
const { core, primordials } = __bootstrap;
const { event: eventModule, messagePort, url: urlModule } = core.loadExtScript("ext:swrt/01_web_platform.js");
const dom = core.loadExtScript("ext:swrt/60_dom.js");
const documents = core.loadExtScript("ext:swrt/61_html_document.js");
const {
  op_swrt_frame_create, op_swrt_frame_destroy, op_swrt_frame_eval, op_swrt_frame_open, op_swrt_frame_close,
  op_swrt_frame_open_remote, op_swrt_window_post_message, op_swrt_take_message, op_swrt_resource_failed,
} = core.ops;
const { ObjectDefineProperty, TypeError, String } = primordials;
const { Event, MessageEvent } = eventModule;
const { DOMException } = core.loadExtScript("ext:swrt/01_web_platform.js").domException;
const { HTMLIFrameElement } = dom;

// Set by the page realm: installs a Window's globals on a frame's global
// object, and creates the client pieces (container, fetch) of a frame.
let windowSetup = null;
function setWindowSetup(setup) {
  windowSetup = setup;
}

/** The browsing-context state of each window: the page's, and each frame's. */
const windows = new WeakMap();
/** This realm's windows by client id, for messages from other realms. */
const windowsByClient = new Map();

/** Records the page's own window (its client id is the realm's page). */
function registerTopWindow(window, document, clientId) {
  const state = { window, document, clientId, parent: null, iframe: null, url: document.URL };
  windows.set(window, state);
  windowsByClient.set(clientId, state);
}

// A window of another realm (a cross-origin frame, or the parent of this
// page when it is one): HTML exposes only postMessage, navigation and a few
// harmless members on it.
const remoteWindows = new Map();
class CrossOriginWindow {
  #clientId;
  #ownerClientId;
  #navigate;
  constructor(clientId, ownerClientId, navigate) {
    this.#clientId = clientId;
    this.#ownerClientId = ownerClientId;
    this.#navigate = navigate;
  }
  postMessage(message, targetOrigin = "/", transfer = []) {
    const options = typeof targetOrigin === "object" && targetOrigin !== null ? targetOrigin : { targetOrigin, transfer };
    let wanted = options.targetOrigin ?? "/";
    if (wanted === "/") wanted = stateByClient(this.#ownerClientId)?.window.location.origin ?? "*";
    else if (wanted !== "*") wanted = new urlModule.URL(wanted).origin;
    const data = messagePort.serializeJsMessageData(message, options.transfer ?? []);
    op_swrt_window_post_message(this.#ownerClientId, this.#clientId, data, wanted);
  }
  get location() {
    const navigate = this.#navigate;
    return {
      set href(url) { if (navigate) navigate(String(url)); },
      replace(url) { if (navigate) navigate(String(url)); },
      assign(url) { if (navigate) navigate(String(url)); },
    };
  }
  set location(url) { if (this.#navigate) this.#navigate(String(url)); }
  get closed() { return false; }
  get length() { return 0; }
  get window() { return this; }
  get self() { return this; }
  get frames() { return this; }
  blur() {}
  focus() {}
  close() {}
  get [Symbol.toStringTag]() { return "Window"; }
}

// HTML's CrossOriginProperties: what a cross-origin window exposes.
const CROSS_ORIGIN_PROPERTIES = new Set([
  "postMessage", "location", "closed", "length", "window", "self", "frames", "top", "parent", "opener",
  "blur", "focus", "close",
]);

function remoteWindow(clientId, origin, ownerClientId, navigate = null, parent = null) {
  let window = remoteWindows.get(clientId);
  if (window === undefined) {
    const target = new CrossOriginWindow(clientId, ownerClientId, navigate);
    const blocked = (name) => new DOMException(
      `Blocked a frame with origin "${stateByClient(ownerClientId)?.window.location.origin}" from accessing property "${String(name)}" of a cross-origin frame.`,
      "SecurityError",
    );
    window = new Proxy(target, {
      get(t, name) {
        if (name === "top" || name === "parent") return parent?.() ?? window;
        if (name === "opener") return null;
        if (name === "then" || name === Symbol.toStringTag || typeof name === "symbol") return undefined;
        if (!CROSS_ORIGIN_PROPERTIES.has(name)) throw blocked(name);
        const value = Reflect.get(t, name, t);
        return typeof value === "function" ? value.bind(t) : value;
      },
      set(t, name, value) {
        if (name === "location") { t.location = value; return true; }
        throw blocked(name);
      },
      has(_t, name) { return CROSS_ORIGIN_PROPERTIES.has(name); },
      ownKeys() { return []; },
      getPrototypeOf() { return null; },
      setPrototypeOf() { return false; },
      defineProperty(_t, name) { throw blocked(name); },
      deleteProperty(_t, name) { throw blocked(name); },
    });
    remoteWindows.set(clientId, window);
  }
  return window;
}

function stateByClient(clientId) {
  return windowsByClient.get(clientId) ?? null;
}

/** A window of another realm posted a message to one of this realm's. */
function onWindowMessage({ clientId, messageId, origin, sourceClientId }) {
  const target = stateByClient(clientId);
  let data;
  let ports;
  try {
    const [value, transferables] = messagePort.deserializeJsMessageData(op_swrt_take_message(messageId));
    data = value;
    ports = transferables.filter((t) => t instanceof messagePort.MessagePort);
  } catch {
    if (target) target.window.dispatchEvent(new MessageEvent("messageerror", { origin }));
    return;
  }
  if (!target) return;
  const source = remoteWindows.get(sourceClientId) ?? remoteWindow(sourceClientId, origin, clientId);
  target.window.dispatchEvent(new MessageEvent("message", { data, origin, source, ports }));
}

/** This realm's cross-origin frames by their client id. */
const remoteFrames = new Map();

/** A cross-origin frame of this realm has loaded. */
function onFrameLoaded(frameClientId) {
  remoteFrames.get(frameClientId)?.onRemoteLoad?.();
}

function stateOf(window) {
  return windows.get(window) ?? null;
}

/** A Document for a frame, with its loading state and skeleton if asked. */
function frameDocument(frame, url, skeleton, csp) {
  const document = dom.createDocument(url);
  document.defaultView = frame.window;
  documents.configureDocument(document, {
    window: frame.window,
    csp,
    fetchScriptText: async (scriptUrl) => {
      const response = await frame.fetchSubresource(scriptUrl);
      if (!response.ok) throw new TypeError(`HTTP status ${response.status}`);
      return await response.text();
    },
    runClassic: (text, scriptUrl) => {
      const [, error] = op_swrt_frame_eval(frame.realmId, text, scriptUrl);
      if (error !== null) documents.reportScriptError(frame.window, error, scriptUrl);
    },
  });
  if (skeleton) {
    const html = document.appendChild(document.createElement("html"));
    html.appendChild(document.createElement("head"));
    html.appendChild(document.createElement("body"));
  }
  return document;
}

// HTML "create a new child navigable" when an iframe becomes connected:
// the frame starts with an about:blank document, then "process the iframe
// attributes" navigates it.
function frameInserted(iframe) {
  if (iframe._frame) return;
  const parentDocument = iframe.ownerDocument;
  const parentWindow = parentDocument.defaultView;
  const parent = stateOf(parentWindow);
  if (parent === null) return;
  const [realmId, window] = op_swrt_frame_create();
  const frame = {
    realmId, window, parent, iframe, clientId: null, url: "about:blank", document: null, discarded: false,
  };
  // about:blank shares its parent's client until the frame navigates.
  frame.clientId = parent.clientId;
  // HTML: about:blank and srcdoc documents inherit their parent's policy
  // container (and so its Content Security Policies).
  frame.document = frameDocument(frame, "about:blank", true, documents.contentSecurityPolicies(parentDocument));
  windows.set(window, frame);
  iframe._frame = frame;
  windowSetup(window, frame);
  const release = documents.delayLoad(parentDocument);
  processAttributes(frame).finally(release);
}

async function processAttributes(frame) {
  const { iframe } = frame;
  const srcdoc = iframe.getAttribute("srcdoc");
  if (srcdoc !== null) {
    await navigateFrame(frame, "about:srcdoc", srcdoc);
    return;
  }
  const src = iframe.getAttribute("src");
  let url = "about:blank";
  if (src !== null && src !== "") {
    try {
      url = new urlModule.URL(src, iframe.ownerDocument.baseURI).href;
    } catch {
      url = "about:blank";
    }
  }
  if (url === "about:blank") {
    // The initial about:blank document stays; load fires as a task.
    await new Promise((resolve) => setTimeout(resolve, 0));
    fireFrameLoad(frame);
    return;
  }
  await navigateFrame(frame, url);
}

/**
 * Navigates a frame to `url` (or to `srcdoc` markup, at about:srcdoc): a new
 * document and a new client.
 */
async function navigateFrame(frame, url, srcdoc = null) {
  const parentOrigin = frame.parent.window.location.origin;
  const origin = srcdoc !== null ? parentOrigin : new urlModule.URL(url).origin;
  if (origin !== parentOrigin) {
    await navigateRemote(frame, url, origin);
    return;
  }
  let opened;
  try {
    opened = await op_swrt_frame_open(frame.parent.clientId, url);
  } catch (error) {
    op_swrt_resource_failed(url, String(error?.message ?? error));
    fireFrameLoad(frame);
    return;
  }
  if (frame.discarded) {
    op_swrt_frame_close(opened.clientId);
    return;
  }
  endClient(frame);
  frame.remote = null;
  // A navigation gets a new Window: a fresh realm, unless this is the
  // frame's first navigation away from its initial about:blank document.
  if (frame.navigated) newRealm(frame);
  frame.navigated = true;
  frame.clientId = opened.clientId;
  windowsByClient.set(frame.clientId, frame);
  frame.url = opened.url;
  frame.controller = opened.controller;
  const csp = srcdoc !== null ? documents.contentSecurityPolicies(frame.parent.document) : opened.csp;
  frame.document = frameDocument(frame, opened.url, !opened.html, csp);
  windowSetup(frame.window, frame);
  if (srcdoc !== null) {
    await documents.loadHtml(frame.document, srcdoc, frame.window, { fromNetwork: false });
  } else if (opened.html) {
    await documents.loadHtml(frame.document, opened.text, frame.window);
  } else {
    frame.document._loading.runClassic(opened.text, opened.url);
  }
  // HTML "the end": the client's message queue is enabled once its
  // document has loaded.
  if (frame.container) frame.container.startMessages();
  fireFrameLoad(frame);
}

// A cross-origin frame runs in a realm (an isolate) of its own; the parent
// gets a window it can only post messages to and navigate.
async function navigateRemote(frame, url, origin) {
  let clientId;
  try {
    clientId = await op_swrt_frame_open_remote(frame.parent.clientId, url);
  } catch (error) {
    op_swrt_resource_failed(url, String(error?.message ?? error));
    fireFrameLoad(frame);
    return;
  }
  if (frame.discarded) {
    op_swrt_frame_close(clientId);
    return;
  }
  endClient(frame);
  const loaded = new Promise((resolve) => { frame.onRemoteLoad = resolve; });
  frame.clientId = clientId;
  frame.url = url;
  frame.remote = remoteWindow(clientId, origin, frame.parent.clientId, (next) => {
    navigateFrame(frame, new urlModule.URL(next, frame.parent.document.baseURI).href);
  }, () => frame.parent.window);
  remoteFrames.set(clientId, frame);
  await loaded;
  fireFrameLoad(frame);
}

function newRealm(frame) {
  op_swrt_frame_destroy(frame.realmId);
  windows.delete(frame.window);
  const [realmId, window] = op_swrt_frame_create();
  frame.realmId = realmId;
  frame.window = window;
  frame.windowInstalled = false;
  windows.set(window, frame);
}

function fireFrameLoad(frame) {
  if (frame.discarded) return;
  frame.iframe.dispatchEvent(new Event("load"));
}

// The frame's own client ends (it navigated away, or was removed).
function endClient(frame) {
  if (frame.clientId !== null && frame.clientId !== frame.parent.clientId) {
    windowsByClient.delete(frame.clientId);
    remoteFrames.delete(frame.clientId);
    op_swrt_frame_close(frame.clientId);
    if (frame.onClientEnded) frame.onClientEnded(frame.clientId);
  }
}

// HTML: removing an iframe destroys its child navigable (and the frames
// nested in it).
function frameRemoved(iframe) {
  const frame = iframe._frame;
  if (!frame) return;
  iframe._frame = null;
  frame.discarded = true;
  endClient(frame);
  op_swrt_frame_destroy(frame.realmId);
}

const previousInserted = dom.hooks.inserted;
dom.hooks.inserted = (node) => {
  previousInserted(node);
  if (node instanceof HTMLIFrameElement) frameInserted(node);
};
const previousRemoved = dom.hooks.removed;
dom.hooks.removed = (node) => {
  previousRemoved(node);
  if (node instanceof HTMLIFrameElement) frameRemoved(node);
};
const previousAttributeChanged = dom.hooks.attributeChanged;
dom.hooks.attributeChanged = (el, name) => {
  previousAttributeChanged(el, name);
  // Setting src (or srcdoc) of a connected iframe navigates it.
  if (el instanceof HTMLIFrameElement && el._frame && (name === "src" || name === "srcdoc")) {
    processAttributes(el._frame);
  }
};

ObjectDefineProperty(HTMLIFrameElement.prototype, "contentWindow", {
  get() { return this._frame ? (this._frame.remote ?? this._frame.window) : null; },
  enumerable: true,
  configurable: true,
});
ObjectDefineProperty(HTMLIFrameElement.prototype, "contentDocument", {
  // A cross-origin frame's document is not reachable (HTML: null).
  get() { return this._frame && !this._frame.remote ? this._frame.document : null; },
  enumerable: true,
  configurable: true,
});

return { navigateFrame, onFrameLoaded, onWindowMessage, registerTopWindow, remoteWindow, setWindowSetup, stateOf };
})();

// Iframes (HTML "nested browsing contexts"). A same-origin frame is a realm
// of its own in the page's isolate: its global object is a Window with its
// own built-ins, so `frame.contentWindow.fetch(...)` or
// `frame.contentWindow.navigator.serviceWorker` work synchronously from the
// parent, as in a browser. Each frame with a URL is a client of its own: the
// host decides which service worker controls it and answers its
// navigation. Removing the element discards the frame and ends its client.
(function () {
const { core, primordials } = __bootstrap;
const { event: eventModule, url: urlModule } = core.loadExtScript("ext:swrt/01_web_platform.js");
const dom = core.loadExtScript("ext:swrt/60_dom.js");
const documents = core.loadExtScript("ext:swrt/61_html_document.js");
const {
  op_swrt_frame_create, op_swrt_frame_destroy, op_swrt_frame_eval, op_swrt_frame_open, op_swrt_frame_close,
  op_swrt_resource_failed,
} = core.ops;
const { ObjectDefineProperty, TypeError, String } = primordials;
const { Event } = eventModule;
const { HTMLIFrameElement } = dom;

// Set by the page realm: installs a Window's globals on a frame's global
// object, and creates the client pieces (container, fetch) of a frame.
let windowSetup = null;
function setWindowSetup(setup) {
  windowSetup = setup;
}

/** The browsing-context state of each window: the page's, and each frame's. */
const windows = new WeakMap();

/** Records the page's own window (its client id is the realm's page). */
function registerTopWindow(window, document, clientId) {
  windows.set(window, { window, document, clientId, parent: null, iframe: null, url: document.URL });
}

function stateOf(window) {
  return windows.get(window) ?? null;
}

/** A Document for a frame, with its loading state and skeleton if asked. */
function frameDocument(frame, url, skeleton) {
  const document = dom.createDocument(url);
  document.defaultView = frame.window;
  documents.configureDocument(document, {
    window: frame.window,
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
  frame.document = frameDocument(frame, "about:blank", true);
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
    op_swrt_resource_failed(url, "cross-origin frames are not supported; the frame keeps an empty document");
    fireFrameLoad(frame);
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
  // A navigation gets a new Window: a fresh realm, unless this is the
  // frame's first navigation away from its initial about:blank document.
  if (frame.navigated) newRealm(frame);
  frame.navigated = true;
  frame.clientId = opened.clientId;
  frame.url = opened.url;
  frame.controller = opened.controller;
  frame.document = frameDocument(frame, opened.url, !opened.html);
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
  get() { return this._frame?.window ?? null; },
  enumerable: true,
  configurable: true,
});
ObjectDefineProperty(HTMLIFrameElement.prototype, "contentDocument", {
  get() { return this._frame?.document ?? null; },
  enumerable: true,
  configurable: true,
});

return { navigateFrame, registerTopWindow, setWindowSetup, stateOf };
})();

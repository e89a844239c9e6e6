// A page realm's document: loading it from HTML as the parser would, its
// script elements (HTML "prepare the script element" and "execute the
// script element"), its readiness (DOMContentLoaded, load) and the CSP
// pragmas of <meta http-equiv>.
//
// The markup is parsed in Rust with html5ever; nodes are then inserted in
// tree order, and the builder stops at each parser-inserted script, so a
// classic script in <head> sees the document as far as the parser got
// (`document.body === null`) and blocks what follows until it has run.
(function () {
const { core, primordials } = __bootstrap;
const { event: eventModule, url: urlModule } = core.loadExtScript("ext:swrt/01_web_platform.js");
const dom = core.loadExtScript("ext:swrt/60_dom.js");
const { op_swrt_html_parse, op_swrt_inline_module, op_swrt_resource_failed, op_swrt_report_uncaught } = core.ops;
const { describeError, errorLocation } = core.loadExtScript("ext:swrt/04_realm.js");
const {
  ArrayPrototypePush, ArrayPrototypeShift, Promise, PromiseResolve,
  StringPrototypeToLowerCase, StringPrototypeTrim, SafeMap, String,
} = primordials;
const { Event, ErrorEvent, EventTargetPrototype } = eventModule;
const EventTargetDispatch = EventTargetPrototype.dispatchEvent;
const { HTMLScriptElement, HTMLMetaElement, childText } = dom;

let inlineModules = 0;

/**
 * What loading a document needs (one per document: the page's and each
 * frame's). `fetchScriptText(url)` loads a classic script through the
 * document's client (so a controlled page's scripts go through its service
 * worker); `runClassic(text, url)` runs one in the document's realm. `csp`
 * is the document's policy list as delivered with it (its response's
 * headers, or what it inherits); `<meta>` policies add to it.
 */
function configureDocument(document, { fetchScriptText, runClassic, window, csp = [] }) {
  document._loading = {
    fetchScriptText,
    runClassic,
    window,
    csp: [...csp],
    // HTML: scripts that run when the parser finishes (defer, module), in
    // order; scripts inserted with async=false, in insertion order.
    deferred: [],
    inOrder: [],
    // Things that delay the load event (HTML "delay the load event").
    delays: 0,
    settled: null,
  };
}

function loading(document) {
  return document._loading;
}

function delayLoad(document) {
  const state = loading(document);
  state.delays++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--state.delays === 0 && state.settled) state.settled();
  };
}

function loadDelaysSettled(document) {
  const state = loading(document);
  if (state.delays === 0) return PromiseResolve();
  return new Promise((resolve) => { state.settled = resolve; });
}

/** A JavaScript MIME type essence, or "module" (HTML, "the script's type"). */
function scriptType(el) {
  return scriptTypeOf(el.getAttribute("type"), el.getAttribute("language"));
}

function scriptTypeOf(typeAttr, language) {
  let type;
  if (typeAttr === null ? (language === null || language === "") : typeAttr === "") type = "text/javascript";
  else if (typeAttr === null) type = "text/" + language;
  else type = StringPrototypeToLowerCase(StringPrototypeTrim(typeAttr));
  if (type === "module") return "module";
  const essence = StringPrototypeTrim(type.split(";")[0]);
  const JS = ["application/ecmascript", "application/javascript", "application/x-ecmascript", "application/x-javascript",
    "text/ecmascript", "text/javascript", "text/javascript1.0", "text/javascript1.1", "text/javascript1.2",
    "text/javascript1.3", "text/javascript1.4", "text/javascript1.5", "text/jscript", "text/livescript",
    "text/x-ecmascript", "text/x-javascript"];
  return JS.includes(essence) ? "classic" : null;
}

function fireSimple(target, type) {
  target.dispatchEvent(new Event(type));
}

/** Fetches a classic script's text; null means a network error. */
async function fetchClassic(document, url) {
  const state = loading(document);
  const preloaded = state.preloads?.get(url);
  if (preloaded !== undefined) {
    state.preloads.delete(url);
    return await preloaded;
  }
  try {
    return await state.fetchScriptText(url);
  } catch (error) {
    op_swrt_resource_failed(url, `${error?.message ?? error}`);
    return null;
  }
}

/**
 * HTML "prepare the script element". Returns a promise that resolves when
 * a parser-blocking script has run (the parser waits for it), else null.
 */
function prepareScript(el) {
  if (el._alreadyStarted) return null;
  const parserInserted = el._parserInserted === true;
  const wasParserInserted = parserInserted;
  el._parserInserted = false;
  if (wasParserInserted && !el.hasAttribute("async")) el._forceAsync = true;
  const hasSrc = el.hasAttribute("src");
  const sourceText = childText(el);
  if (!hasSrc && sourceText === "") return null;
  if (!el.isConnected) return null;
  const type = scriptType(el);
  if (type === null) return null;
  if (wasParserInserted) {
    el._parserInserted = true;
    el._forceAsync = false;
  }
  el._alreadyStarted = true;
  if (type === "classic" && el.hasAttribute("nomodule")) return null;
  const document = el.ownerDocument;
  const state = loading(document);
  if (state === undefined) return null;
  let release;
  const record = { el, type, ready: false, result: null, url: document.baseURI, onReady: null };
  const markReady = (result) => {
    record.ready = true;
    record.result = result;
    if (record.onReady) record.onReady();
  };

  if (hasSrc) {
    const src = el.getAttribute("src");
    if (src === "") {
      queueTask(() => fireSimple(el, "error"));
      return null;
    }
    let url;
    try {
      url = new urlModule.URL(src, document.baseURI).href;
    } catch {
      queueTask(() => fireSimple(el, "error"));
      return null;
    }
    record.url = url;
    release = delayLoad(document);
    if (type === "classic") {
      fetchClassic(document, url).then((text) => markReady(text === null ? { error: true } : { text }));
    } else {
      markReady({ module: url });
    }
  } else if (type === "classic") {
    // Inline classic scripts run now, inside the insertion or the parse.
    executeScript(record, { text: sourceText });
    return null;
  } else {
    const url = `${document.URL}#inline-module-${++inlineModules}`;
    op_swrt_inline_module(url, sourceText);
    release = delayLoad(document);
    markReady({ module: url, inline: true });
  }
  record.release = release;

  const asyncAttr = el.hasAttribute("async");
  if (type === "classic" && el._parserInserted && !asyncAttr && !el.hasAttribute("defer")) {
    // A pending parsing-blocking script: the parser waits for it.
    return whenReady(record).then(() => executeRecord(record));
  }
  if (el._parserInserted && !asyncAttr && (type === "module" || el.hasAttribute("defer"))) {
    ArrayPrototypePush(state.deferred, record);
    return null;
  }
  if (!el._parserInserted && !el.async) {
    // "The list of scripts that will execute in order as soon as possible."
    ArrayPrototypePush(state.inOrder, record);
    const run = () => runInOrderScripts(state);
    record.onReady = run;
    if (record.ready) run();
    return null;
  }
  // "The set of scripts that will execute as soon as possible."
  whenReady(record).then(() => queueTask(() => executeRecord(record)));
  return null;
}

// Each script runs in a task of its own (HTML queues an element task to
// execute it), so the microtasks of one run before the next script.
function runInOrderScripts(state) {
  if (state.inOrder.length === 0 || !state.inOrder[0].ready || state.runningInOrder) return;
  state.runningInOrder = true;
  queueTask(() => {
    state.runningInOrder = false;
    const record = ArrayPrototypeShift(state.inOrder);
    executeRecord(record);
    runInOrderScripts(state);
  });
}

function whenReady(record) {
  if (record.ready) return PromiseResolve();
  return new Promise((resolve) => {
    const previous = record.onReady;
    record.onReady = () => { if (previous) previous(); resolve(); };
  });
}

async function executeRecord(record) {
  try {
    await executeScript(record, record.result);
  } finally {
    if (record.release) record.release();
  }
}

/** HTML "execute the script element". */
async function executeScript(record, result) {
  const { el } = record;
  const document = el.ownerDocument;
  if (result.error) {
    fireSimple(el, "error");
    return;
  }
  const external = el.hasAttribute("src");
  if (result.module !== undefined) {
    try {
      await import(result.module);
    } catch (error) {
      reportScriptError(loading(document).window, error, result.module);
    }
    if (external) fireSimple(el, "load");
    return;
  }
  const previous = document._currentScript;
  document._currentScript = el;
  try {
    loading(document).runClassic(result.text, record.url);
  } finally {
    document._currentScript = previous;
  }
  if (external) fireSimple(el, "load");
}

/** Runs a classic script in the page's realm; errors are reported, not thrown (HTML "run a classic script"). */
function runClassic(text, url) {
  const [, error] = core.evalContext(text, url);
  if (error) reportScriptError(globalThis, error.thrown, url);
}

let reporting = 0;
/**
 * HTML "report an exception" for a script of `window`'s document: an
 * ErrorEvent at the window (onerror gets message, source, line, column,
 * error); unless a listener cancels it, the host reports it as uncaught.
 * An exception thrown by an error listener is reported without an event.
 */
function reportScriptError(window, error, url) {
  const { message, stack } = describeError(error);
  const { filename, lineno, colno } = errorLocation(error, url);
  const event = new ErrorEvent("error", { cancelable: true, message: `Uncaught ${message}`, filename, lineno, colno, error });
  if (window === globalThis) {
    // The page's window reports what no listener canceled (04_realm.js).
    window.dispatchEvent(event);
    return;
  }
  if (reporting > 0) {
    op_swrt_report_uncaught(`Uncaught ${message}`, stack, `${filename}:${lineno}:${colno}`);
    return;
  }
  reporting++;
  try {
    if (EventTargetDispatch.call(window, event)) {
      op_swrt_report_uncaught(`Uncaught ${message}`, stack, `${filename}:${lineno}:${colno}`);
    }
  } finally {
    reporting--;
  }
}

function queueTask(fn) {
  setTimeout(fn, 0);
}

// A <meta http-equiv="Content-Security-Policy"> takes effect when it is
// inserted into the document (HTML "pragma directives").
function onInserted(node) {
  if (node instanceof HTMLMetaElement &&
      StringPrototypeToLowerCase(node.getAttribute("http-equiv") ?? "") === "content-security-policy") {
    const content = node.getAttribute("content");
    const state = loading(node.ownerDocument);
    if (content && state) ArrayPrototypePush(state.csp, content);
  }
  if (node instanceof HTMLScriptElement && !node._parserInserted) prepareScript(node);
}

// A connected script inserted by script without source yet runs when it
// gets its src or its text (HTML: the script element's "becomes connected",
// "children changed" and "src set" triggers).
function onScriptChanged(el) {
  if (el instanceof HTMLScriptElement && !el._parserInserted && el.isConnected) prepareScript(el);
}

dom.hooks.inserted = onInserted;
dom.hooks.attributeChanged = (el, name) => { if (name === "src") onScriptChanged(el); };
dom.hooks.childrenChanged = onScriptChanged;

/** The CSP policies in force for a document, in insertion order. */
function contentSecurityPolicies(document) {
  return [...(loading(document)?.csp ?? [])];
}

function setReadyState(document, state) {
  document._readyState = state;
  fireSimple(document, "readystatechange");
}

/**
 * Loads `html` into `document` as the HTML parser and "the end" of parsing
 * do: scripts in order, deferred scripts, DOMContentLoaded, then load on
 * `window` once nothing delays it. Resolves after the load event.
 */
async function loadHtml(document, html, window, { fromNetwork = true } = {}) {
  const records = op_swrt_html_parse(String(html));
  preloadScripts(document, records);
  const nodes = [document];
  for (let i = 1; i < records.length; i++) {
    buildOne(document, records, i, nodes);
    const r = records[i];
    if (r.kind === 1 && r.name === "script" && r.namespace === "html") {
      // A parser-inserted script runs once its text is in place (at its
      // end tag), before anything after it is parsed.
      const script = nodes[i];
      let j = i + 1;
      while (j < records.length && records[j].parent === i) buildOne(document, records, j++, nodes);
      i = j - 1;
      // Whatever a script does, the parser goes on.
      try {
        const blocking = prepareScript(script);
        if (blocking !== null) await blocking;
      } catch (error) {
        reportScriptError(window, error, document.URL);
      }
    }
  }
  // A document that came from the network sees the end of its data in a
  // task of its own (tasks queued by its scripts run first); srcdoc markup
  // is all there at once.
  if (fromNetwork) await new Promise((resolve) => queueTask(resolve));
  // HTML "the end".
  const state = loading(document);
  setReadyState(document, "interactive");
  while (state.deferred.length > 0) {
    const record = ArrayPrototypeShift(state.deferred);
    await whenReady(record);
    await new Promise((resolve) => queueTask(resolve));
    await executeRecord(record);
  }
  document.dispatchEvent(new Event("DOMContentLoaded", { bubbles: true }));
  // The load event follows the last thing that delayed it (a script, a
  // frame's load), or DOMContentLoaded when nothing did, without another
  // task in between, as Chromium's "check completed" does.
  if (state.delays > 0) await loadDelaysSettled(document);
  setReadyState(document, "complete");
  window.dispatchEvent(new Event("load"));
  window.dispatchEvent(new Event("pageshow"));
}

// Like a browser's preload scanner: the markup is all parsed already, so
// every external classic script it names starts loading now, in parallel,
// and each runs when the parser reaches it.
function preloadScripts(document, records) {
  const state = loading(document);
  state.preloads = new SafeMap();
  for (const r of records) {
    if (r.kind !== 1 || r.name !== "script" || r.namespace !== "html") continue;
    const attrs = new SafeMap(r.attrs);
    const src = attrs.get("src");
    const type = attrs.get("type");
    if (!src || (type !== undefined && type !== "" && scriptTypeOf(type, attrs.get("language")) !== "classic")) continue;
    let url;
    try {
      url = new urlModule.URL(src, document.baseURI).href;
    } catch {
      continue;
    }
    if (state.preloads.has(url)) continue;
    const text = state.fetchScriptText(url).catch((error) => {
      op_swrt_resource_failed(url, `${error?.message ?? error}`);
      return null;
    });
    state.preloads.set(url, text);
  }
}

// Builds record `i` (its parent is already built) into `nodes` and inserts it.
function buildOne(document, records, i, nodes) {
  const r = records[i];
  if (r.kind === 11) {
    nodes[i] = nodes[r.parent].content;
    return;
  }
  const node = dom.createParsedNode(document, r);
  nodes[i] = node;
  if (node === null) return;
  if (node instanceof HTMLScriptElement) node._parserInserted = true;
  nodes[r.parent].appendChild(node);
}

return { configureDocument, contentSecurityPolicies, delayLoad, loadHtml, reportScriptError, runClassic };
})();

// What every swrt realm does the same way: report uncaught errors to the
// host without dying, run the loop that receives host commands, and hide the
// runtime's internals from page and worker code.
(function () {
const { core, primordials } = __bootstrap;
const { event: eventModule, nonEnumerable } = core.loadExtScript("ext:swrt/01_web_platform.js");
const { op_swrt_next_command, op_swrt_event_settled, op_swrt_report_uncaught } = core.ops;
const { FunctionPrototypeCall, ObjectDefineProperty, ObjectPrototypeIsPrototypeOf, String } = primordials;

function describeError(error) {
  try {
    if (error !== null && typeof error === "object" && "message" in error) {
      return {
        message: `${error.name ?? "Error"}: ${error.message}`,
        stack: typeof error.stack === "string" ? error.stack : null,
      };
    }
    return { message: String(error), stack: null };
  } catch {
    return { message: "exception", stack: null };
  }
}

// HTML "report the exception": deno_web dispatches an ErrorEvent on the
// global and, unless a listener canceled it, terminates the isolate as Deno
// does for uncaught errors. A worker or page must survive its listeners'
// errors, so the global's dispatchEvent reports those to the host instead and
// tells deno_web the event was handled.
const EventTargetDispatch = eventModule.EventTarget.prototype.dispatchEvent;
const ErrorEventPrototype = eventModule.ErrorEvent.prototype;
// An error listener that throws is reported without another error event
// (which would run the same listener again).
let dispatchingError = false;
// How many exceptions were reported so far: IndexedDB aborts a transaction
// when a request's event listener threw ("fire a success event"), and
// deno_web's listener invocation reports the exception rather than
// rethrowing it.
let reportedExceptions = 0;

/** The number of exceptions this realm has reported so far. */
function reportedExceptionCount() {
  return reportedExceptions;
}
function globalDispatchEvent(event) {
  const target = this ?? globalThis;
  const reportable = target === globalThis && event.type === "error" &&
    ObjectPrototypeIsPrototypeOf(ErrorEventPrototype, event) && !event.isTrusted;
  if (!reportable) return FunctionPrototypeCall(EventTargetDispatch, target, event);
  reportedExceptions++;
  let notCanceled = true;
  if (!dispatchingError) {
    dispatchingError = true;
    try {
      notCanceled = FunctionPrototypeCall(EventTargetDispatch, target, event);
    } finally {
      dispatchingError = false;
    }
  }
  if (notCanceled) {
    const { message, stack } = describeError(event.error ?? event.message);
    const location = event.filename ? `${event.filename}:${event.lineno}:${event.colno}` : null;
    op_swrt_report_uncaught(`Uncaught ${message}`, stack, location);
  }
  return false;
}

// Unhandled rejections fire `unhandledrejection`; what stays unhandled is reported.
function onUnhandledRejection(promise, reason) {
  const event = new eventModule.PromiseRejectionEvent("unhandledrejection", {
    cancelable: true,
    promise,
    reason,
  });
  if (globalThis.dispatchEvent(event)) {
    const { message, stack } = describeError(reason);
    op_swrt_report_uncaught(`Uncaught (in promise) ${message}`, stack, null);
  }
  return true;
}

/** Where an exception was thrown: the first `url:line:column` of its stack. */
function errorLocation(error, fallbackUrl = "") {
  const stack = typeof error?.stack === "string" ? error.stack : "";
  const m = /\(?((?:https?|file|about|blob):[^\s()]*?):(\d+):(\d+)\)?/.exec(stack);
  if (m) return { filename: m[1], lineno: Number(m[2]), colno: Number(m[3]) };
  return { filename: fallbackUrl, lineno: 0, colno: 0 };
}

// HTML "report an exception" for exceptions the engine catches (timers,
// callbacks): an ErrorEvent at the global, reported to the host unless
// canceled. deno_web's own reportException treats an error listener that
// throws as fatal to the realm; a browser reports it and goes on.
function reportException(error) {
  const { message } = describeError(error);
  const { filename, lineno, colno } = errorLocation(error);
  globalThis.dispatchEvent(new eventModule.ErrorEvent("error", {
    cancelable: true,
    message: `Uncaught ${message}`,
    filename,
    lineno,
    colno,
    error,
  }));
}

/** Installs error reporting on a global whose prototype chain includes `proto`. */
function installErrorReporting(proto) {
  ObjectDefineProperty(proto, "dispatchEvent", nonEnumerable(globalDispatchEvent));
  core.setReportExceptionCallback(reportException);
  core.setUnhandledPromiseRejectionHandler(onUnhandledRejection);
}

/** Runtime internals are not part of the web platform. */
function hideInternals() {
  delete globalThis.__bootstrap;
  delete globalThis.Deno;
  unlistEngineGlobals();
}

const {
  ArrayPrototypeFilter,
  FunctionPrototypeToString,
  ObjectGetOwnPropertyDescriptors,
  ObjectGetOwnPropertyNames,
  ObjectGetOwnPropertySymbols,
  ReflectDeleteProperty,
  ReflectOwnKeys,
  SafeSet,
  SafeWeakMap,
  SetPrototypeHas,
  StringPrototypeStartsWith,
  SymbolFor,
  WeakMapPrototypeGet,
  WeakMapPrototypeSet,
} = primordials;

/**
 * The JavaScript engine keeps helpers of its own on the global object (names
 * starting "__v8x", and symbol-keyed slots of its Temporal and WebIDL
 * support). Its built-ins look them up there when they run (Atomics.waitAsync,
 * Intl time zones, module source imports), so they cannot be deleted. Leave
 * them out of the global object's key lists, so a script that enumerates the
 * global sees the web platform and what it defined itself. The same goes for
 * the console's inspection hooks and the host-object brand that deno's
 * classes carry on their prototypes (registered symbols no web interface
 * has).
 */
function unlistEngineGlobals() {
  const global = globalThis;
  // Every symbol key the global has before page or worker code runs is the
  // runtime's (a browser's global object has none of its own).
  const internalSymbols = new SafeSet(ArrayPrototypeFilter(ReflectOwnKeys(global), (key) => typeof key === "symbol"));
  const inspectionHooks = new SafeSet([
    SymbolFor("Deno.privateCustomInspect"),
    SymbolFor("Deno.customInspect"),
    SymbolFor("Deno.core.hostObject"),
  ]);
  const isEngineKey = (key) =>
    typeof key === "string" ? StringPrototypeStartsWith(key, "__v8x") : SetPrototypeHas(internalSymbols, key);
  const isHidden = (target, key) =>
    typeof key === "symbol" && SetPrototypeHas(inspectionHooks, key) ? true : target === global && isEngineKey(key);
  const visibleKeys = (target, keys) => ArrayPrototypeFilter(keys, (key) => !isHidden(target, key));
  // Replacements keep the originals' source text (`[native code]`).
  const originals = new SafeWeakMap();
  const replace = (holder, name, original, replacement) => {
    ObjectDefineProperty(replacement, "name", { value: name });
    ObjectDefineProperty(replacement, "length", { value: original.length });
    WeakMapPrototypeSet(originals, replacement, original);
    ObjectDefineProperty(holder, name, { value: replacement, writable: true, enumerable: false, configurable: true });
  };
  replace(Object, "getOwnPropertyNames", ObjectGetOwnPropertyNames, {
    getOwnPropertyNames(target) {
      const keys = ObjectGetOwnPropertyNames(target);
      return target === global ? visibleKeys(target, keys) : keys;
    },
  }.getOwnPropertyNames);
  replace(Reflect, "ownKeys", ReflectOwnKeys, {
    ownKeys(target) {
      return visibleKeys(target, ReflectOwnKeys(target));
    },
  }.ownKeys);
  replace(Object, "getOwnPropertySymbols", ObjectGetOwnPropertySymbols, {
    getOwnPropertySymbols(target) {
      return visibleKeys(target, ObjectGetOwnPropertySymbols(target));
    },
  }.getOwnPropertySymbols);
  replace(Object, "getOwnPropertyDescriptors", ObjectGetOwnPropertyDescriptors, {
    getOwnPropertyDescriptors(target) {
      const descriptors = ObjectGetOwnPropertyDescriptors(target);
      for (const key of ReflectOwnKeys(descriptors)) {
        if (isHidden(target, key)) ReflectDeleteProperty(descriptors, key);
      }
      return descriptors;
    },
  }.getOwnPropertyDescriptors);
  replace(Function.prototype, "toString", Function.prototype.toString, {
    toString() {
      return FunctionPrototypeToString(WeakMapPrototypeGet(originals, this) ?? this);
    },
  }.toString);
}

/** Acknowledges a command (ends the host's wait for it). */
function acknowledge(id) {
  op_swrt_event_settled(id, { status: "completed" });
}

/** Receives host commands forever; `handlers[kind](command)` handles each. */
async function runCommandLoop(handlers) {
  for (;;) {
    const command = await op_swrt_next_command();
    if (command === null) return;
    try {
      const handler = handlers[command.kind];
      if (handler) handler(command);
    } catch (error) {
      // One bad command must not stop the loop; report it like an uncaught error.
      eventModule.reportException(error);
    } finally {
      if (command.kind === "registration") acknowledge(command.ackId);
    }
  }
}

/**
 * importScripts(): runs the fetched classic scripts `[url, source]` in the
 * global scope, in order, each with its own URL in stack traces; the first
 * that throws stops the rest.
 */
function runImportedScripts(sources) {
  for (const [url, source] of sources) {
    const [, error] = core.evalContext(source, url);
    if (error) throw error.thrown;
  }
}

return {
  acknowledge, describeError, errorLocation, hideInternals, installErrorReporting, reportedExceptionCount,
  reportException, runCommandLoop, runImportedScripts,
};
})();

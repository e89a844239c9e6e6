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
function globalDispatchEvent(event) {
  const target = this ?? globalThis;
  const notCanceled = FunctionPrototypeCall(EventTargetDispatch, target, event);
  if (
    target === globalThis && event.type === "error" &&
    ObjectPrototypeIsPrototypeOf(ErrorEventPrototype, event) && !event.isTrusted
  ) {
    if (notCanceled) {
      const { message, stack } = describeError(event.error ?? event.message);
      const location = event.filename ? `${event.filename}:${event.lineno}:${event.colno}` : null;
      op_swrt_report_uncaught(`Uncaught ${message}`, stack, location);
    }
    return false;
  }
  return notCanceled;
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

/** Installs error reporting on a global whose prototype chain includes `proto`. */
function installErrorReporting(proto) {
  ObjectDefineProperty(proto, "dispatchEvent", nonEnumerable(globalDispatchEvent));
  core.setReportExceptionCallback(eventModule.reportException);
  core.setUnhandledPromiseRejectionHandler(onUnhandledRejection);
}

/** Runtime internals are not part of the web platform. */
function hideInternals() {
  delete globalThis.__bootstrap;
  delete globalThis.Deno;
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

return { acknowledge, describeError, hideInternals, installErrorReporting, runCommandLoop };
})();

// The `Worker` and `SharedWorker` constructors (HTML, Workers) of pages and
// workers, and what their owner realm does with the worker's messages and
// errors. Each worker runs in a realm of its own; the host starts it.
(function () {
const { core, primordials } = __bootstrap;
const { domException, event: eventModule, messagePort, nonEnumerable, url: urlModule, webidl } = core.loadExtScript("ext:swrt/01_web_platform.js");

const { op_swrt_random_uuid, op_swrt_take_message, op_swrt_worker_start, op_swrt_worker_post, op_swrt_worker_terminate, op_swrt_shared_worker_connect } = core.ops;
const { ArrayIsArray, ArrayPrototypeFilter, ArrayPrototypePush, ObjectPrototypeToString, SafeMap, String, Symbol, TypeError } = primordials;
const { URL } = urlModule;
const { DOMException } = domException;
const { ErrorEvent, Event, EventTarget, MessageEvent, defineEventHandler } = eventModule;

const _id = Symbol("worker id");
const _state = Symbol("worker state");
const _port = Symbol("shared worker port");

/** The dedicated workers this realm created, by client id. */
const ownedWorkers = new SafeMap();

/** The `type` and `name` of WorkerOptions (a string is a name for SharedWorker). */
function workerOptions(options, prefix, nameOnlyString) {
  if (nameOnlyString && (typeof options === "string" || options === undefined)) {
    return { type: "classic", name: options === undefined ? "" : options };
  }
  const type = options?.type === undefined ? "classic" : String(options.type);
  if (type !== "classic" && type !== "module") {
    throw new TypeError(`${prefix}: The provided value '${type}' is not a valid enum value of type WorkerType.`);
  }
  const name = options?.name === undefined ? "" : String(options.name);
  return { type, name };
}

/** HTML, worker constructors: parse the URL and require the realm's origin. */
function workerUrl(scriptURL, prefix) {
  scriptURL = webidl.converters.USVString(scriptURL, prefix, "Argument 1");
  let url;
  try {
    url = new URL(scriptURL, globalThis.location.href);
  } catch {
    throw new DOMException(`${prefix}: Script URL '${scriptURL}' is invalid.`, "SyntaxError");
  }
  const origin = new URL(globalThis.location.href).origin;
  if (url.origin !== origin) {
    throw new DOMException(
      `${prefix}: Script at '${url.href}' cannot be accessed from origin '${origin}'.`,
      "SecurityError",
    );
  }
  return url.href;
}

/** The transfer list of a postMessage() call's second argument (a sequence or options). */
function transferList(transferOrOptions) {
  let list;
  if (transferOrOptions === undefined || transferOrOptions === null) return [];
  if (ArrayIsArray(transferOrOptions)) list = transferOrOptions;
  else if (typeof transferOrOptions === "object") list = transferOrOptions.transfer ?? [];
  else throw new TypeError("Failed to execute 'postMessage': the transfer list is not a sequence.");
  // deno_web's deserializer puts each transferred ArrayBuffer one slot too
  // far in its list of transferred objects, over the next one: with the
  // buffers last, no MessagePort is overwritten. The order of a transfer
  // list has no meaning.
  return [
    ...ArrayPrototypeFilter(list, (t) => !isArrayBuffer(t)),
    ...ArrayPrototypeFilter(list, isArrayBuffer),
  ];
}

function isArrayBuffer(value) {
  return ObjectPrototypeToString(value) === "[object ArrayBuffer]";
}

class Worker extends EventTarget {
  constructor(scriptURL, options = undefined) {
    super();
    const prefix = "Failed to construct 'Worker'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    const url = workerUrl(scriptURL, prefix);
    const { type, name } = workerOptions(options, prefix, false);
    const id = op_swrt_random_uuid();
    this[_id] = id;
    // Messages posted before the worker's realm is up wait here, already
    // serialized (a later change to the object does not show).
    this[_state] = { started: false, terminated: false, queue: [] };
    ownedWorkers.set(id, this);
    op_swrt_worker_start(id, url, type, name).then(
      () => {
        const state = this[_state];
        state.started = true;
        if (state.terminated) {
          op_swrt_worker_terminate(id);
          return;
        }
        for (const data of state.queue) op_swrt_worker_post(id, data);
        state.queue = [];
      },
      () => {
        // HTML, run a worker: a script that fails to load fires a simple
        // `error` event at the Worker object (the host printed why).
        ownedWorkers.delete(id);
        if (!this[_state].terminated) this.dispatchEvent(new Event("error"));
      },
    );
  }

  postMessage(message, transferOrOptions = undefined) {
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'postMessage' on 'Worker'");
    const data = messagePort.serializeJsMessageData(message, transferList(transferOrOptions));
    const state = this[_state];
    if (state.terminated) return;
    if (state.started) op_swrt_worker_post(this[_id], data);
    else ArrayPrototypePush(state.queue, data);
  }

  terminate() {
    const state = this[_state];
    if (state.terminated) return;
    state.terminated = true;
    state.queue = [];
    ownedWorkers.delete(this[_id]);
    if (state.started) op_swrt_worker_terminate(this[_id]);
  }
}
webidl.configureInterface(Worker);
for (const name of ["message", "messageerror", "error"]) defineEventHandler(Worker.prototype, name);

class SharedWorker extends EventTarget {
  constructor(scriptURL, options = undefined) {
    super();
    const prefix = "Failed to construct 'SharedWorker'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    const url = workerUrl(scriptURL, prefix);
    const { type, name } = workerOptions(options, prefix, true);
    const channel = new messagePort.MessageChannel();
    this[_port] = channel.port1;
    // The other end goes to the worker's `connect` event.
    const data = messagePort.serializeJsMessageData(null, [channel.port2]);
    op_swrt_shared_worker_connect(url, type, name, data).catch(() => {
      this.dispatchEvent(new Event("error"));
    });
  }

  get port() {
    return this[_port];
  }
}
webidl.configureInterface(SharedWorker);
defineEventHandler(SharedWorker.prototype, "error");

/** Takes a message out of the mailbox: [data, ports], or null when it cannot be read. */
function takeMessage(messageId) {
  const taken = op_swrt_take_message(messageId);
  if (taken === null) return null;
  try {
    const [data, transferables] = messagePort.deserializeJsMessageData(taken);
    const ports = transferables.filter((t) => t instanceof messagePort.MessagePort);
    return [data, ports];
  } catch {
    return null;
  }
}

/** Fires `message` (or `messageerror`) at `target` for mailbox message `messageId`. */
function deliverMessage(target, messageId) {
  const message = takeMessage(messageId);
  if (message === null) {
    target.dispatchEvent(new MessageEvent("messageerror"));
    return;
  }
  const [data, ports] = message;
  target.dispatchEvent(new MessageEvent("message", { data, ports }));
}

/** Commands an owner realm receives about the workers it created. */
const ownerCommandHandlers = {
  workerMessage(command) {
    const worker = ownedWorkers.get(command.from);
    if (worker === undefined) {
      op_swrt_take_message(command.messageId);
      return;
    }
    deliverMessage(worker, command.messageId);
  },
  workerError(command) {
    const worker = ownedWorkers.get(command.workerId);
    if (worker === undefined) return;
    worker.dispatchEvent(new ErrorEvent("error", {
      message: command.message,
      filename: command.filename,
      lineno: command.lineno,
      colno: command.colno,
      cancelable: true,
    }));
  },
};

/** `Worker` is exposed to pages and workers, `SharedWorker` to pages only. */
function workerConstructorDescriptors(isWindow) {
  const descriptors = { Worker: nonEnumerable(Worker) };
  if (isWindow) descriptors.SharedWorker = nonEnumerable(SharedWorker);
  return descriptors;
}

return { deliverMessage, ownerCommandHandlers, takeMessage, transferList, workerConstructorDescriptors, Worker, SharedWorker };
})();

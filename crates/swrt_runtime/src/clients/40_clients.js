// Clients, Client and WindowClient (Service Workers section 4.2, section 4.3). The host
// owns the client list; these objects are views of what it reports.
(function () {
const { core, primordials } = __bootstrap;
const { messagePort, rejectionsAsPromise, webidl } = core.loadExtScript("ext:swrt/01_web_platform.js");

const { op_swrt_clients_claim, op_swrt_clients_match_all, op_swrt_open_window, op_swrt_client_post_message } = core.ops;
const {
  ArrayPrototypeFind,
  ArrayPrototypeMap,
  ObjectFreeze,
  PromiseReject,
  PromiseResolve,
  Symbol,
  TypeError,
} = primordials;

const _data = Symbol("client data");
const _ancestorOrigins = Symbol("ancestor origins");

class Client {
  constructor() {
    webidl.illegalConstructor();
  }
  get url() {
    webidl.assertBranded(this, ClientPrototype);
    return this[_data].url;
  }
  get frameType() {
    webidl.assertBranded(this, ClientPrototype);
    return this[_data].frameType ?? "top-level";
  }
  get id() {
    webidl.assertBranded(this, ClientPrototype);
    return this[_data].id;
  }
  get type() {
    webidl.assertBranded(this, ClientPrototype);
    return this[_data].type;
  }
  postMessage(message, transfer = undefined) {
    webidl.assertBranded(this, ClientPrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'postMessage' on 'Client'");
    const transferList = Array.isArray(transfer) ? transfer : (transfer?.transfer ?? []);
    const data = messagePort.serializeJsMessageData(message, transferList);
    // Delivery is asynchronous; a client that went away drops the message.
    op_swrt_client_post_message(this[_data].id, data);
  }
}
webidl.configureInterface(Client);
const ClientPrototype = Client.prototype;

class WindowClient extends Client {
  get visibilityState() {
    webidl.assertBranded(this, WindowClientPrototype);
    return "visible";
  }
  get focused() {
    webidl.assertBranded(this, WindowClientPrototype);
    return true;
  }
  get ancestorOrigins() {
    webidl.assertBranded(this, WindowClientPrototype);
    // [SameObject] FrozenArray<USVString>.
    this[_ancestorOrigins] ??= ObjectFreeze([...(this[_data].ancestorOrigins ?? [])]);
    return this[_ancestorOrigins];
  }
  focus() {
    return rejectionsAsPromise(() => {
      webidl.assertBranded(this, WindowClientPrototype);
      return PromiseResolve(this);
    });
  }
  navigate(url) {
    return rejectionsAsPromise(() => {
      webidl.assertBranded(this, WindowClientPrototype);
      const prefix = "Failed to execute 'navigate' on 'WindowClient'";
      webidl.requiredArguments(arguments.length, 1, prefix);
      webidl.converters.USVString(url, prefix, "Argument 1");
      return PromiseReject(new TypeError(`${prefix}: swrt cannot navigate a client from its service worker`));
    });
  }
}
webidl.configureInterface(WindowClient);
const WindowClientPrototype = WindowClient.prototype;

function clientObject(data) {
  const client = webidl.createBranded(data.type === "window" ? WindowClient : Client);
  client[_data] = data;
  return client;
}

class Clients {
  constructor() {
    webidl.illegalConstructor();
  }
  async get(id) {
    webidl.assertBranded(this, ClientsPrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'get' on 'Clients'");
    id = webidl.converters.DOMString(id, "Failed to execute 'get' on 'Clients'", "Argument 1");
    const all = await op_swrt_clients_match_all({ includeUncontrolled: true, type: "all" });
    const found = ArrayPrototypeFind(all, (c) => c.id === id);
    return found ? clientObject(found) : undefined;
  }
  async matchAll(options = undefined) {
    webidl.assertBranded(this, ClientsPrototype);
    const includeUncontrolled = !!options?.includeUncontrolled;
    const type = options?.type ?? "window";
    if (!["window", "worker", "sharedworker", "all"].includes(type)) {
      throw new TypeError(`Failed to execute 'matchAll' on 'Clients': '${type}' is not a valid ClientType`);
    }
    const all = await op_swrt_clients_match_all({ includeUncontrolled, type });
    return ArrayPrototypeMap(all, clientObject);
  }
  async openWindow(url) {
    webidl.assertBranded(this, ClientsPrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'openWindow' on 'Clients'");
    url = webidl.converters.USVString(url, "Failed to execute 'openWindow' on 'Clients'", "Argument 1");
    // The host opens the window (or reports it to an embedder); swrt has no
    // page realm to hand back here, which the spec allows: resolve null.
    await op_swrt_open_window(url);
    return null;
  }
  async claim() {
    webidl.assertBranded(this, ClientsPrototype);
    await op_swrt_clients_claim();
  }
}
webidl.configureInterface(Clients);
const ClientsPrototype = Clients.prototype;

const clients = webidl.createBranded(Clients);

function clientsDescriptors() {
  const d = (value) => ({ value, writable: true, enumerable: false, configurable: true });
  return { Client: d(Client), Clients: d(Clients), WindowClient: d(WindowClient) };
}

return {
  clientObject,
  Client,
  WindowClient,
  Clients,
  clients,
  clientsDescriptors,
};
})();

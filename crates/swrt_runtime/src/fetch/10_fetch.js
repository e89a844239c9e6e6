// `fetch()` (Fetch standard "fetch" method) over reqwest ops. The Request,
// Response and Headers classes are deno_fetch's; the network path is swrt's.
(function () {
const { core, primordials } = __bootstrap;
const { abortSignal, body: bodyModule, domException, request: requestModule, response: responseModule, streams, webidl } = core.loadExtScript("ext:swrt/01_web_platform.js");

const { op_swrt_fetch, op_swrt_fetch_cancel_handle, op_swrt_csp_allows, op_swrt_integrity_matches } = core.ops;

// A controlled page asks its service worker first (Handle Fetch); set by the
// page realm. Called with the request, its body and the client (null for the
// realm's page, else a frame's); resolves with a Response, or null for the
// network.
let controllerFetch = null;
function setControllerFetch(hook) {
  controllerFetch = hook;
}

/** A Response made from a worker's answer to a FetchEvent. */
function responseFromParts(meta, bytes) {
  const response = newInnerResponse(meta.status, meta.statusText);
  response.headerList = meta.headers;
  response.urlList = meta.urlList;
  response.type = meta.responseType === "" ? "default" : meta.responseType;
  if (bytes !== null && !responseModule.nullBodyStatus(meta.status)) {
    response.body = new InnerBody({ body: bytes, consumed: false });
    response.body.length = bytes.byteLength;
  }
  return fromInnerResponse(response, "immutable");
}

// The connect-src source lists of the realm's (or a frame client's)
// Content Security Policies, set by the realm's entry point.
let connectSrc = () => [];
function setConnectSrcProvider(provider) {
  connectSrc = provider;
}
const { Promise, TypeError, Uint8Array, ArrayPrototypePush, ArrayPrototypeSome } = primordials;
const { Request, toInnerRequest } = requestModule;
const { fromInnerResponse, newInnerResponse } = responseModule;
const { InnerBody } = bodyModule;
const { DOMException } = domException;

async function requestBodyBytes(inner) {
  if (inner.body === null) return null;
  const stream = inner.body.streamOrStatic;
  if (!(stream instanceof streams.ReadableStream)) {
    const body = stream.body;
    return typeof body === "string" ? core.encode(body) : body;
  }
  // Streaming uploads are buffered: reqwest needs a length for HTTP/1.1
  // without chunked upload support on every server.
  const chunks = [];
  let total = 0;
  const reader = stream.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    ArrayPrototypePush(chunks, value);
    total += value.byteLength;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function abortError(signal) {
  return signal.reason ?? new DOMException("The operation was aborted.", "AbortError");
}

function fetch(input, init = undefined) {
  webidl.requiredArguments(arguments.length, 1, "Failed to execute 'fetch'");
  return fetchRequest(input, init, "connect-src", null, true);
}

/** The fetch() of a frame's window: its requests are the frame client's. */
function createFetch(client) {
  return function fetch(input, init = undefined) {
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'fetch'");
    // A URL is parsed against the frame document's base URL.
    if (!(input instanceof Request)) input = new URL(String(input), client.document.baseURI).href;
    return fetchRequest(input, init, "connect-src", client, true);
  };
}

/**
 * Fetches a document's subresource (a script, say): the same path as
 * fetch(), through the controlling service worker, but governed by the CSP
 * directive of its destination rather than connect-src.
 */
function fetchSubresource(url, _destination, client = null) {
  // Subresource URLs arrive parsed (absolute). A classic script loads
  // whatever its origin, so the CORS protocol does not govern it.
  return fetchRequest(url, undefined, null, client, false);
}

/**
 * The URL whose origin is the request's origin: the frame document's for a
 * frame client, else the realm's own (a page's or a worker's location).
 */
function clientUrl(client) {
  return client?.document?.URL ?? globalThis.location.href;
}

function fetchRequest(input, init, cspDirective, client, corsGoverned) {
  return new Promise((resolve, reject) => {
    const prefix = "Failed to execute 'fetch'";
    const requestObject = new Request(input, init);
    const inner = toInnerRequest(requestObject);
    const signal = requestObject.signal;
    if (signal.aborted) {
      reject(abortError(signal));
      return;
    }
    // Every policy's source list must allow the URL.
    const sourceLists = cspDirective === "connect-src" ? connectSrc(client) : [];
    if (ArrayPrototypeSome(sourceLists, (sources) => !op_swrt_csp_allows(sources, inner.currentUrl()))) {
      reject(new TypeError(`${prefix}: Refused to connect to '${inner.currentUrl()}' because it violates the page's Content Security Policy directive connect-src.`));
      return;
    }
    const cancelRid = op_swrt_fetch_cancel_handle();
    let settled = false;
    let bodyRid = null;
    const onabort = () => {
      if (!settled) reject(abortError(signal));
      settled = true;
      core.tryClose(cancelRid);
      if (bodyRid !== null) core.tryClose(bodyRid);
    };
    signal[abortSignal.add](onabort);
    const headers = inner.headerList.map(([k, v]) => [k, v]);
    if (!requestObject.headers.has("accept")) ArrayPrototypePush(headers, ["accept", "*/*"]);
    (async () => {
      const bytes = await requestBodyBytes(inner);
      if (controllerFetch !== null) {
        const answer = await controllerFetch({
          method: inner.method,
          url: inner.currentUrl(),
          headers,
          mode: requestObject.mode,
          credentials: requestObject.credentials,
          redirect: inner.redirectMode ?? "follow",
        }, bytes, client);
        if (answer !== null) {
          const [meta, body] = answer;
          if (settled) return;
          settled = true;
          core.tryClose(cancelRid);
          if (meta.error) {
            reject(new TypeError(`${prefix}: the service worker's respondWith() failed: ${meta.error}`));
          } else if (meta.responseType === "opaque" && requestObject.mode !== "no-cors") {
            // Handle Fetch: an opaque response answers only a "no-cors"
            // request, else the page would read what CORS hides.
            reject(new TypeError(`${prefix}: the service worker answered a "${requestObject.mode}" request with an opaque response.`));
          } else if (meta.responseType === "opaqueredirect" && (inner.redirectMode ?? "follow") !== "manual") {
            reject(new TypeError(`${prefix}: the service worker answered a request whose redirect mode is not "manual" with an opaque redirect.`));
          } else if (
            requestObject.integrity !== "" &&
            !op_swrt_integrity_matches(requestObject.integrity, body ?? new Uint8Array(0))
          ) {
            // Fetch "main fetch" step 22: a body that does not match the
            // request's integrity metadata is a network error.
            reject(new TypeError(`${prefix}: The response body does not match the request's integrity metadata.`));
          } else {
            resolve(responseFromParts(meta, body));
          }
          return;
        }
      }
      const result = await op_swrt_fetch(
        {
          method: inner.method,
          url: inner.currentUrl(),
          headers,
          hasBody: bytes !== null,
          redirect: inner.redirectMode ?? "follow",
          cancelRid,
          integrity: requestObject.integrity,
          mode: requestObject.mode,
          credentials: requestObject.credentials,
          clientUrl: corsGoverned ? clientUrl(client) : null,
        },
        bytes ?? new Uint8Array(0),
      );
      if (settled) {
        if (result.bodyRid !== null) core.tryClose(result.bodyRid);
        return;
      }
      const response = newInnerResponse(result.status, result.statusText);
      response.headerList = result.headers;
      response.urlList = result.urlList;
      response.type = result.responseType;
      if (result.bodyRid !== null) {
        bodyRid = result.bodyRid;
        response.body = new InnerBody(streams.readableStreamForRid(result.bodyRid));
      }
      settled = true;
      core.tryClose(cancelRid);
      resolve(fromInnerResponse(response, "immutable"));
    })().catch((error) => {
      if (settled) return;
      settled = true;
      core.tryClose(cancelRid);
      if (error instanceof DOMException && error.name === "AbortError") {
        reject(abortError(signal));
      } else if (error instanceof TypeError) {
        reject(error);
      } else {
        reject(new TypeError(`${prefix}: ${error?.message ?? error}`));
      }
    }).finally(() => signal[abortSignal.remove](onabort));
  });
}

return {
  createFetch,
  fetch,
  fetchSubresource,
  responseFromParts,
  setConnectSrcProvider,
  setControllerFetch,
};
})();

// The Cache API (Service Workers section 5.4, 5.5): CacheStorage and Cache,
// persisted in the store with bodies in files. Matching follows "request
// matches cached item", applied in Rust.
(function () {
const { core, primordials } = __bootstrap;
// Defines webidl.converters.CacheQueryOptions, which the Cache API shares.
core.loadExtScript("ext:swrt/70_background_fetch.js");
const {
  domException,
  request: requestModule,
  response: responseModule,
  body: bodyModule,
  streams,
  webidl,
} = core.loadExtScript("ext:swrt/01_web_platform.js");
const { fetch } = core.loadExtScript("ext:swrt/10_fetch.js");
const {
  op_swrt_cache_open,
  op_swrt_cache_has,
  op_swrt_cache_delete,
  op_swrt_cache_keys,
  op_swrt_cache_match_all,
  op_swrt_cache_body,
  op_swrt_cache_body_begin,
  op_swrt_cache_body_write,
  op_swrt_cache_put,
  op_swrt_cache_delete_entries,
} = core.ops;
const {
  ArrayFrom,
  ArrayPrototypeMap,
  ObjectFreeze,
  ObjectGetOwnPropertyDescriptor,
  ObjectPrototypeIsPrototypeOf,
  StringPrototypeSplit,
  StringPrototypeTrim,
  Symbol,
  TypeError,
} = primordials;
const { DOMException, QuotaExceededError } = domException;
const { Request } = requestModule;
const { Response, fromInnerResponse, newInnerResponse } = responseModule;
const { InnerBody } = bodyModule;

const _id = Symbol("cache id");

/**
 * Whether a cache would hold `a` and `b` (the latter answered by
 * `response`) as one entry (Cache API, "request matches cached item"):
 * the same URL without fragments, and every header the response's Vary
 * names equal in both requests.
 */
function sameEntry(a, b, response) {
  const withoutFragment = (url) => {
    const parsed = new URL(url);
    parsed.hash = "";
    return parsed.href;
  };
  if (withoutFragment(a.url) !== withoutFragment(b.url)) return false;
  const vary = response.headers.get("Vary");
  if (vary === null) return true;
  for (const field of StringPrototypeSplit(vary, ",")) {
    const name = StringPrototypeTrim(field);
    if (name === "") continue;
    if (name === "*" || a.headers.get(name) !== b.headers.get(name)) return false;
  }
  return true;
}

function toRequest(info) {
  return info instanceof Request ? info : new Request(info);
}

function query(request) {
  return { url: request.url, method: request.method, headers: ArrayFrom(request.headers) };
}

function queryOptions(options, prefix) {
  return webidl.converters.CacheQueryOptions(options, prefix, "Argument 2");
}

async function responseFrom(cacheId, entry) {
  const inner = newInnerResponse(entry.status, entry.statusText);
  inner.headerList = entry.headers;
  inner.urlList = entry.urlList;
  inner.type = entry.responseType === "" ? "default" : entry.responseType;
  const rid = await op_swrt_cache_body(cacheId, entry.entryId);
  if (rid !== null) inner.body = new InnerBody(streams.readableStreamForRid(rid));
  return fromInnerResponse(inner, "immutable");
}

async function matchAllIn(cacheId, request, options) {
  const entries = await op_swrt_cache_match_all(cacheId, request === undefined ? null : query(toRequest(request)), options);
  const out = [];
  for (const entry of entries) out.push(await responseFrom(cacheId, entry));
  return out;
}

/** Stores one request/response pair, streaming the body to disk. */
async function putIn(cacheId, request, response, prefix) {
  // Cache put steps: only GET over http(s); no 206; no Vary: *; a usable body.
  if (!/^https?:$/.test(new URL(request.url).protocol) || request.method !== "GET") {
    throw new TypeError(`${prefix}: Request method '${request.method}' is unsupported or the scheme is not http(s).`);
  }
  if (response.status === 206) throw new TypeError(`${prefix}: Partial response (status code 206) is unsupported.`);
  const vary = response.headers.get("vary");
  if (vary !== null && vary.split(",").some((v) => v.trim() === "*")) {
    throw new TypeError(`${prefix}: Vary header contains *.`);
  }
  if (response.bodyUsed || response.body?.locked) {
    throw new TypeError(`${prefix}: Response body is already used.`);
  }
  let bodyRid = null;
  if (response.body !== null) {
    bodyRid = await op_swrt_cache_body_begin();
    const reader = response.body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      await op_swrt_cache_body_write(bodyRid, value);
    }
  }
  const refused = await op_swrt_cache_put(cacheId, bodyRid, {
    request: query(request),
    status: response.status,
    statusText: response.statusText,
    headers: ArrayFrom(response.headers),
    responseType: response.type,
    urlList: response.url ? [response.url] : [],
  });
  if (refused !== null) {
    // The origin's storage would pass its quota: a QuotaExceededError that
    // says what was requested and the quota (Storage Standard).
    throw new QuotaExceededError(`${prefix}: ${refused.message}`, {
      quota: refused.quota,
      requested: refused.requested,
    });
  }
}

class Cache {
  constructor() {
    webidl.illegalConstructor();
  }

  async match(request, options = {}) {
    webidl.assertBranded(this, CachePrototype);
    const prefix = "Failed to execute 'match' on 'Cache'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    const responses = await matchAllIn(this[_id], request, queryOptions(options, prefix));
    return responses[0];
  }

  async matchAll(request = undefined, options = {}) {
    webidl.assertBranded(this, CachePrototype);
    const prefix = "Failed to execute 'matchAll' on 'Cache'";
    return ObjectFreeze(await matchAllIn(this[_id], request, queryOptions(options, prefix)));
  }

  async add(request) {
    webidl.assertBranded(this, CachePrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'add' on 'Cache'");
    return await this.addAll([request]);
  }

  async addAll(requests) {
    webidl.assertBranded(this, CachePrototype);
    const prefix = "Failed to execute 'addAll' on 'Cache'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    const list = ArrayPrototypeMap(ArrayFrom(requests), toRequest);
    for (const request of list) {
      if (!/^https?:$/.test(new URL(request.url).protocol) || request.method !== "GET") {
        throw new TypeError(`${prefix}: Add/AddAll only supports the GET request method over http(s).`);
      }
    }
    // Fetch everything first; only a complete set of OK responses is stored.
    const responses = await Promise.all(ArrayPrototypeMap(list, (request) => fetch(request)));
    for (const response of responses) {
      if (!response.ok) throw new TypeError(`${prefix}: Request failed with status ${response.status}.`);
    }
    // Batch Cache Operations: a request the batch already holds an entry
    // for (same URL but for the fragment, and no Vary header of the later
    // response that tells them apart) is an InvalidStateError.
    for (let j = 1; j < list.length; j++) {
      for (let i = 0; i < j; i++) {
        if (sameEntry(list[i], list[j], responses[j])) {
          throw new DOMException(`${prefix}: duplicate requests for ${list[j].url}.`, "InvalidStateError");
        }
      }
    }
    for (let i = 0; i < list.length; i++) await putIn(this[_id], list[i], responses[i], prefix);
  }

  async put(request, response) {
    webidl.assertBranded(this, CachePrototype);
    const prefix = "Failed to execute 'put' on 'Cache'";
    webidl.requiredArguments(arguments.length, 2, prefix);
    if (!(response instanceof Response)) throw new TypeError(`${prefix}: parameter 2 is not of type 'Response'.`);
    await putIn(this[_id], toRequest(request), response, prefix);
  }

  async delete(request, options = {}) {
    webidl.assertBranded(this, CachePrototype);
    const prefix = "Failed to execute 'delete' on 'Cache'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    const r = toRequest(request);
    if (r.method !== "GET" && !options?.ignoreMethod) return false;
    return await op_swrt_cache_delete_entries(this[_id], query(r), queryOptions(options, prefix));
  }

  async keys(request = undefined, options = {}) {
    webidl.assertBranded(this, CachePrototype);
    const prefix = "Failed to execute 'keys' on 'Cache'";
    const entries = await op_swrt_cache_match_all(
      this[_id],
      request === undefined ? null : query(toRequest(request)),
      queryOptions(options, prefix),
    );
    return ObjectFreeze(ArrayPrototypeMap(entries, (e) => new Request(e.request.url, { method: e.request.method, headers: e.request.headers })));
  }

}
webidl.configureInterface(Cache);
const CachePrototype = Cache.prototype;

function cacheObject(id) {
  const cache = webidl.createBranded(Cache);
  cache[_id] = id;
  return cache;
}

class CacheStorage {
  constructor() {
    webidl.illegalConstructor();
  }

  async match(request, options = {}) {
    webidl.assertBranded(this, CacheStoragePrototype);
    const prefix = "Failed to execute 'match' on 'CacheStorage'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    const names = options?.cacheName !== undefined ? [String(options.cacheName)] : await op_swrt_cache_keys();
    for (const name of names) {
      if (!(await op_swrt_cache_has(name))) continue;
      const id = await op_swrt_cache_open(name);
      const found = await matchAllIn(id, request, queryOptions(options, prefix));
      if (found.length > 0) return found[0];
    }
    return undefined;
  }

  async has(cacheName) {
    webidl.assertBranded(this, CacheStoragePrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'has' on 'CacheStorage'");
    return await op_swrt_cache_has(String(cacheName));
  }

  async open(cacheName) {
    webidl.assertBranded(this, CacheStoragePrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'open' on 'CacheStorage'");
    return cacheObject(await op_swrt_cache_open(String(cacheName)));
  }

  async delete(cacheName) {
    webidl.assertBranded(this, CacheStoragePrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'delete' on 'CacheStorage'");
    return await op_swrt_cache_delete(String(cacheName));
  }

  async keys() {
    webidl.assertBranded(this, CacheStoragePrototype);
    return await op_swrt_cache_keys();
  }

}
webidl.configureInterface(CacheStorage);
const CacheStoragePrototype = CacheStorage.prototype;

const caches = webidl.createBranded(CacheStorage);

/** The Cache and CacheStorage interface objects of a global. */
function cacheDescriptors() {
  const d = (value) => ({ value, writable: true, enumerable: false, configurable: true });
  return {
    Cache: d(Cache),
    CacheStorage: d(CacheStorage),
  };
}

/**
 * The `caches` attribute (WindowOrWorkerGlobalScope) for globals whose
 * interface prototype object is `globalPrototype`: an own property of a
 * Window (a [Global] interface), a property of WorkerGlobalScope.prototype
 * in workers. Its getter refuses any other object.
 */
function cachesAttribute(globalPrototype) {
  const holder = {
    get caches() {
      if (!ObjectPrototypeIsPrototypeOf(globalPrototype, this ?? globalThis)) {
        throw new TypeError("Illegal invocation");
      }
      return caches;
    },
  };
  return { ...ObjectGetOwnPropertyDescriptor(holder, "caches"), enumerable: true, configurable: true };
}

void DOMException;

return { cacheDescriptors, cachesAttribute };
})();

// IndexedDB (Indexed Database API 3.0) and StorageManager. The databases
// live in Rust (shared by every realm of the origin, durable in the store);
// this file converts values to keys, evaluates key paths, clones values and
// keeps the spec's request and transaction event order. Keys cross to Rust
// in an order-preserving byte encoding (crates/swrt_indexeddb/src/key.rs),
// so every comparison there is a byte comparison.
(function () {
const { core, primordials } = __bootstrap;
const { webidl, domException, event: eventModule, messagePort, file } =
  core.loadExtScript("ext:swrt/01_web_platform.js");
const {
  op_idb_open,
  op_idb_upgrade,
  op_idb_versionchange_next,
  op_idb_versionchange_handled,
  op_idb_close,
  op_idb_delete_database,
  op_idb_delete_database_finish,
  op_idb_databases,
  op_idb_estimate,
  op_idb_txn_create,
  op_idb_txn_try_start,
  op_idb_txn_start,
  op_idb_txn_commit,
  op_idb_txn_hold,
  op_idb_txn_abort,
  op_idb_meta,
  op_idb_create_store,
  op_idb_delete_store,
  op_idb_rename_store,
  op_idb_create_index,
  op_idb_add_index_keys,
  op_idb_delete_index,
  op_idb_rename_index,
  op_idb_generate_key,
  op_idb_put,
  op_idb_delete,
  op_idb_clear,
  op_idb_count,
  op_idb_get_all,
  op_idb_cursor,
  op_idb_tick,
  op_idb_blob_read,
  op_idb_blob_insert,
} = core.ops;
const {
  ArrayBufferIsView,
  ArrayBufferPrototypeGetByteLength,
  ArrayIsArray,
  ArrayPrototypeEvery,
  ArrayPrototypeIncludes,
  ArrayPrototypeIndexOf,
  ArrayPrototypeJoin,
  ArrayPrototypeMap,
  ArrayPrototypePush,
  ArrayPrototypeSlice,
  ArrayPrototypeSort,
  DataView,
  DataViewPrototypeGetFloat64,
  DataViewPrototypeSetFloat64,
  DataViewPrototypeGetUint32,
  DatePrototypeGetTime,
  FunctionPrototypeCall,
  MathFloor,
  MathMin,
  NumberIsNaN,
  ObjectCreate,
  ObjectDefineProperty,
  ObjectFreeze,
  ObjectGetOwnPropertySymbols,
  ObjectKeys,
  ObjectPrototypeHasOwnProperty,
  ObjectPrototypeIsPrototypeOf,
  Promise,
  PromiseResolve,
  SafeMap,
  SafeSet,
  StringPrototypeCharCodeAt,
  StringPrototypeSplit,
  String,
  StringFromCharCode,
  Symbol,
  SymbolIterator,
  SymbolToStringTag,
  TypeError,
  Uint8Array,
  ArrayBuffer,
  ArrayBufferPrototype,
  DatePrototype,
  Date,
  DateNow,
} = primordials;
const { DOMException } = domException;
const {
  Event,
  EventTarget,
  defineEventHandler,
  eventTargetData,
  kResistStopImmediatePropagation,
  listenerCount,
  reportException,
  setEventTargetData,
} = eventModule;

for (const name of [
  "ConstraintError", "DataError", "TransactionInactiveError", "ReadOnlyError",
  "VersionError", "UnknownError", "NotFoundError", "InvalidStateError",
  "AbortError", "QuotaExceededError", "SecurityError", "InvalidAccessError",
  "DataCloneError",
]) {
  try {
    core.registerErrorBuilder(`DOMException${name}`, (message) => new DOMException(message, name));
  } catch {
    // Registered already (the realm's shared builders).
  }
}

const illegal = Symbol("illegal constructor");
const brand = webidl.brand;

function checkIllegal(key) {
  if (key !== illegal) webidl.illegalConstructor();
}

// ---------------------------------------------------------------------------
// Keys: conversion ("convert a value to a key") and the byte encoding.

const TAG_NUMBER = 0x10, TAG_DATE = 0x20, TAG_STRING = 0x30, TAG_BINARY = 0x40, TAG_ARRAY = 0x50;
const scratch = new DataView(new ArrayBuffer(8));

function pushNumber(out, n) {
  if (n === 0) n = 0; // -0 is 0
  DataViewPrototypeSetFloat64(scratch, 0, n);
  const negative = (scratch.getUint8(0) & 0x80) !== 0;
  for (let i = 0; i < 8; i++) {
    let b = scratch.getUint8(i);
    if (negative) b = ~b & 0xff;
    else if (i === 0) b |= 0x80;
    ArrayPrototypePush(out, b);
  }
}

function pushStuffed(out, b) {
  ArrayPrototypePush(out, b);
  if (b === 0) ArrayPrototypePush(out, 0xff);
}

function isBufferSource(v) {
  return ObjectPrototypeIsPrototypeOf(ArrayBufferPrototype, v) || ArrayBufferIsView(v) ||
    (typeof SharedArrayBuffer !== "undefined" && v instanceof SharedArrayBuffer);
}

function bufferBytes(v) {
  if (ArrayBufferIsView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return new Uint8Array(v);
}

function isDetached(v) {
  try {
    const buffer = ArrayBufferIsView(v) ? v.buffer : v;
    return buffer.detached === true;
  } catch {
    return true;
  }
}

/** Encodes `value` as a key into `out`; false when it is not a valid key. */
function encodeInto(value, out, seen) {
  if (typeof value === "number") {
    if (NumberIsNaN(value)) return false;
    ArrayPrototypePush(out, TAG_NUMBER);
    pushNumber(out, value);
    return true;
  }
  if (typeof value === "string") {
    ArrayPrototypePush(out, TAG_STRING);
    for (let i = 0; i < value.length; i++) {
      const unit = StringPrototypeCharCodeAt(value, i);
      pushStuffed(out, unit >> 8);
      pushStuffed(out, unit & 0xff);
    }
    ArrayPrototypePush(out, 0, 0);
    return true;
  }
  if (value === null || typeof value !== "object") return false;
  if (ObjectPrototypeIsPrototypeOf(DatePrototype, value)) {
    const t = DatePrototypeGetTime(value);
    if (NumberIsNaN(t)) return false;
    ArrayPrototypePush(out, TAG_DATE);
    pushNumber(out, t);
    return true;
  }
  if (isBufferSource(value)) {
    if (isDetached(value)) return false;
    const bytes = bufferBytes(value);
    ArrayPrototypePush(out, TAG_BINARY);
    for (let i = 0; i < bytes.length; i++) pushStuffed(out, bytes[i]);
    ArrayPrototypePush(out, 0, 0);
    return true;
  }
  if (ArrayIsArray(value)) {
    // The arrays being encoded: a key that contains itself is invalid. Only
    // array keys need the set, so it is made for the first one.
    seen ??= new SafeSet();
    if (seen.has(value)) return false;
    seen.add(value);
    ArrayPrototypePush(out, TAG_ARRAY);
    const length = value.length;
    for (let i = 0; i < length; i++) {
      if (!ObjectPrototypeHasOwnProperty(value, i)) return false;
      if (!encodeInto(value[i], out, seen)) return false;
    }
    ArrayPrototypePush(out, 0);
    return true;
  }
  return false;
}

/** The encoded key for `value`, or null when it is not a valid key. */
function encodeKey(value) {
  const out = [];
  if (!encodeInto(value, out, null)) return null;
  return new Uint8Array(out);
}

function dataError(message) {
  return new DOMException(message, "DataError");
}

function keyOrThrow(value, what = "The parameter") {
  const key = encodeKey(value);
  if (key === null) throw dataError(`${what} is not a valid key.`);
  return key;
}

function readNumber(bytes, at) {
  const negative = (bytes[at] & 0x80) === 0;
  for (let i = 0; i < 8; i++) {
    let b = bytes[at + i];
    if (negative) b = ~b & 0xff;
    else if (i === 0) b &= 0x7f;
    scratch.setUint8(i, b);
  }
  return DataViewPrototypeGetFloat64(scratch, 0);
}

function readStuffed(bytes, at) {
  const out = [];
  while (true) {
    const b = bytes[at];
    if (b === 0) {
      if (bytes[at + 1] === 0) return [out, at + 2];
      ArrayPrototypePush(out, 0);
      at += 2;
    } else {
      ArrayPrototypePush(out, b);
      at += 1;
    }
  }
}

function decodeAt(bytes, at) {
  const tag = bytes[at];
  switch (tag) {
    case TAG_NUMBER: return [readNumber(bytes, at + 1), at + 9];
    case TAG_DATE: return [new Date(readNumber(bytes, at + 1)), at + 9];
    case TAG_STRING: {
      const [raw, next] = readStuffed(bytes, at + 1);
      let s = "";
      for (let i = 0; i < raw.length; i += 2) s += StringFromCharCode((raw[i] << 8) | raw[i + 1]);
      return [s, next];
    }
    case TAG_BINARY: {
      const [raw, next] = readStuffed(bytes, at + 1);
      return [new Uint8Array(raw).buffer, next];
    }
    case TAG_ARRAY: {
      const items = [];
      at += 1;
      while (bytes[at] !== 0) {
        const [item, next] = decodeAt(bytes, at);
        ArrayPrototypePush(items, item);
        at = next;
      }
      return [items, at + 1];
    }
    default:
      throw new DOMException("A stored key is damaged.", "UnknownError");
  }
}

function decodeKey(bytes) {
  return decodeAt(bytes, 0)[0];
}

function compareBytes(a, b) {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return a.length === b.length ? 0 : (a.length < b.length ? -1 : 1);
}

// ---------------------------------------------------------------------------
// Key paths.

let identifierPattern;
try {
  identifierPattern = new RegExp("^[$_\\p{ID_Start}][$\\u200c\\u200d\\p{ID_Continue}]*$", "u");
} catch {
  identifierPattern = /^[$_A-Za-z][$_A-Za-z0-9]*$/;
}

function isValidKeyPathString(path) {
  if (path === "") return true;
  for (const part of StringPrototypeSplit(path, ".")) {
    if (!identifierPattern.test(part)) return false;
  }
  return true;
}

/** The key path as stored: a string or an array of strings; null for none. */
function normalizeKeyPath(keyPath) {
  if (keyPath === null || keyPath === undefined) return null;
  if (ArrayIsArray(keyPath) || (typeof keyPath === "object" && typeof keyPath[SymbolIterator] === "function" && typeof keyPath !== "string")) {
    const list = [];
    for (const item of keyPath) ArrayPrototypePush(list, String(item));
    if (list.length === 0) throw new DOMException("The key path is an empty array.", "SyntaxError");
    for (const item of list) {
      if (!isValidKeyPathString(item)) throw new DOMException(`The key path ${item} is not valid.`, "SyntaxError");
    }
    return list;
  }
  const path = String(keyPath);
  if (!isValidKeyPathString(path)) throw new DOMException(`The key path ${path} is not valid.`, "SyntaxError");
  return path;
}

const FAILURE = Symbol("no value at key path");

function evaluateOne(value, path) {
  if (path === "") return value;
  for (const id of StringPrototypeSplit(path, ".")) {
    if (typeof value === "string" && id === "length") {
      value = value.length;
    } else if (ArrayIsArray(value) && id === "length") {
      value = value.length;
    } else if (ObjectPrototypeIsPrototypeOf(file.Blob.prototype, value) && (id === "size" || id === "type")) {
      value = value[id];
    } else if (ObjectPrototypeIsPrototypeOf(file.File.prototype, value) && (id === "name" || id === "lastModified")) {
      value = value[id];
    } else if (ObjectPrototypeIsPrototypeOf(file.File.prototype, value) && id === "lastModifiedDate") {
      value = new Date(value.lastModified);
    } else {
      if (value === null || typeof value !== "object") return FAILURE;
      if (!ObjectPrototypeHasOwnProperty(value, id)) return FAILURE;
      value = value[id];
      if (value === undefined) return FAILURE;
    }
  }
  return value;
}

/** "Evaluate a key path on a value": a JS value, or FAILURE. */
function evaluateKeyPath(value, keyPath) {
  if (ArrayIsArray(keyPath)) {
    const out = [];
    for (const path of keyPath) {
      const v = evaluateOne(value, path);
      if (v === FAILURE) return FAILURE;
      ArrayPrototypePush(out, v);
    }
    return out;
  }
  return evaluateOne(value, keyPath);
}

/** "Extract a key from a value using a key path": encoded key, null (invalid) or FAILURE. */
function extractKey(value, keyPath) {
  const v = evaluateKeyPath(value, keyPath);
  if (v === FAILURE) return FAILURE;
  return encodeKey(v);
}

/** The index keys of `value` for an index (an array of encoded keys). */
function indexKeys(value, index) {
  const v = evaluateKeyPath(value, index.keyPath);
  if (v === FAILURE) return [];
  if (index.multiEntry && ArrayIsArray(v)) {
    const keys = [];
    const seen = new SafeSet();
    for (let i = 0; i < v.length; i++) {
      const k = encodeKey(v[i]);
      if (k === null) continue;
      const id = ArrayPrototypeJoin(k, ",");
      if (seen.has(id)) continue;
      seen.add(id);
      ArrayPrototypePush(keys, k);
    }
    return keys;
  }
  const k = encodeKey(v);
  return k === null ? [] : [k];
}

function couldInjectKey(value, keyPath) {
  const ids = StringPrototypeSplit(keyPath, ".");
  for (let i = 0; i < ids.length - 1; i++) {
    if (value === null || typeof value !== "object") return false;
    if (!ObjectPrototypeHasOwnProperty(value, ids[i])) return true;
    value = value[ids[i]];
  }
  return value !== null && typeof value === "object";
}

function injectKey(value, key, keyPath) {
  const ids = StringPrototypeSplit(keyPath, ".");
  for (let i = 0; i < ids.length - 1; i++) {
    if (!ObjectPrototypeHasOwnProperty(value, ids[i])) {
      ObjectDefineProperty(value, ids[i], { value: {}, writable: true, enumerable: true, configurable: true });
    }
    value = value[ids[i]];
  }
  ObjectDefineProperty(value, ids[ids.length - 1], { value: key, writable: true, enumerable: true, configurable: true });
}

// ---------------------------------------------------------------------------
// Values and byte strings.

// A stored value is one byte of kind, then: (0) the structured clone's
// bytes, or (1) for a value holding Blobs or Files, the packed list of each
// blob part's id and bytes followed by the clone's bytes. A clone refers to
// blob parts by id in its realm's blob store; the bytes beside it let any
// realm, in this process or a later one, read the value back.
const PLAIN = 0, WITH_BLOBS = 1;
const BLOB_TYPES = ["Blob", "File"];

function holdsBlob(value, seen) {
  if (value === null || typeof value !== "object") return false;
  if (seen.has(value)) return false;
  seen.add(value);
  if (ObjectPrototypeIsPrototypeOf(file.Blob.prototype, value)) return true;
  if (isBufferSource(value) || ObjectPrototypeIsPrototypeOf(DatePrototype, value)) return false;
  if (value instanceof Map) {
    for (const [k, v] of value) if (holdsBlob(k, seen) || holdsBlob(v, seen)) return true;
    return false;
  }
  if (value instanceof Set) {
    for (const v of value) if (holdsBlob(v, seen)) return true;
    return false;
  }
  for (const key of ObjectKeys(value)) {
    if (holdsBlob(value[key], seen)) return true;
  }
  return false;
}

function withKind(kind, bytes) {
  const out = new Uint8Array(bytes.length + 1);
  out[0] = kind;
  out.set(bytes, 1);
  return out;
}

function cloneValue(value) {
  const data = messagePort.serializeJsMessageData(value, []).data;
  if (!holdsBlob(value, new SafeSet())) return withKind(PLAIN, data);
  // The ids of the blob parts this clone refers to.
  const ids = [];
  const deserializers = { ...core.getCloneableDeserializers() };
  for (const type of BLOB_TYPES) {
    deserializers[type] = (d) => {
      for (const part of d.parts) ArrayPrototypePush(ids, String(part.uuid));
      return {};
    };
  }
  core.deserialize(data, { deserializers });
  const parts = [];
  for (const id of ids) ArrayPrototypePush(parts, asciiBytes(id), op_idb_blob_read(id));
  ArrayPrototypePush(parts, data);
  return withKind(WITH_BLOBS, pack(parts));
}

function restoreValue(bytes) {
  if (bytes[0] === PLAIN) return messagePort.deserializeJsMessageData(bytes.subarray(1))[0];
  const parts = unpack(bytes.subarray(1));
  const ids = new SafeMap();
  for (let i = 0; i + 1 < parts.length; i += 2) {
    let id = "";
    for (const b of parts[i]) id += StringFromCharCode(b);
    ids.set(id, op_idb_blob_insert(parts[i + 1]));
  }
  const original = core.getCloneableDeserializers();
  const deserializers = { ...original };
  for (const type of BLOB_TYPES) {
    deserializers[type] = (d) => original[type]({
      ...d,
      parts: d.parts.map((part) => ({ uuid: ids.get(String(part.uuid)), size: part.size })),
    });
  }
  return core.deserialize(parts[parts.length - 1], { deserializers });
}

/** Length-prefixed (u32 little endian) byte strings, back to back. */
function pack(parts) {
  let total = 0;
  for (const p of parts) total += 4 + p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    const n = p.length;
    out[at] = n & 0xff; out[at + 1] = (n >> 8) & 0xff; out[at + 2] = (n >> 16) & 0xff; out[at + 3] = (n >>> 24) & 0xff;
    out.set(p, at + 4);
    at += 4 + n;
  }
  return out;
}

function unpack(buffer) {
  const out = [];
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let at = 0;
  while (at < buffer.length) {
    const n = DataViewPrototypeGetUint32(view, at, true);
    ArrayPrototypePush(out, buffer.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return out;
}

/** The bytes of a short ASCII string (index ids and counts). */
function asciiBytes(text) {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = StringPrototypeCharCodeAt(text, i);
  return out;
}

function packIndexKeys(store, value) {
  const parts = [];
  for (const index of store.indexes) {
    const keys = indexKeys(value, index);
    ArrayPrototypePush(parts, asciiBytes(String(index.id)), asciiBytes(String(keys.length)));
    for (const k of keys) ArrayPrototypePush(parts, k);
  }
  return pack(parts);
}

const EMPTY = new Uint8Array(0);

// ---------------------------------------------------------------------------
// IDBKeyRange.

const _lower = Symbol("lower"), _upper = Symbol("upper"), _lowerOpen = Symbol("lowerOpen"), _upperOpen = Symbol("upperOpen");

class IDBKeyRange {
  constructor(key = undefined, lower, upper, lowerOpen, upperOpen) {
    checkIllegal(key);
    this[brand] = brand;
    this[_lower] = lower;
    this[_upper] = upper;
    this[_lowerOpen] = lowerOpen;
    this[_upperOpen] = upperOpen;
  }
  get lower() { webidl.assertBranded(this, IDBKeyRangePrototype); return this[_lower] === null ? undefined : decodeKey(this[_lower]); }
  get upper() { webidl.assertBranded(this, IDBKeyRangePrototype); return this[_upper] === null ? undefined : decodeKey(this[_upper]); }
  get lowerOpen() { webidl.assertBranded(this, IDBKeyRangePrototype); return this[_lowerOpen]; }
  get upperOpen() { webidl.assertBranded(this, IDBKeyRangePrototype); return this[_upperOpen]; }
  includes(key) {
    webidl.assertBranded(this, IDBKeyRangePrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'includes' on 'IDBKeyRange'");
    return rangeIncludes(this, keyOrThrow(key));
  }
  static only(value) {
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'only' on 'IDBKeyRange'");
    const k = keyOrThrow(value);
    return new IDBKeyRange(illegal, k, k, false, false);
  }
  static lowerBound(lower, open = false) {
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'lowerBound' on 'IDBKeyRange'");
    return new IDBKeyRange(illegal, keyOrThrow(lower), null, !!open, true);
  }
  static upperBound(upper, open = false) {
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'upperBound' on 'IDBKeyRange'");
    return new IDBKeyRange(illegal, null, keyOrThrow(upper), true, !!open);
  }
  static bound(lower, upper, lowerOpen = false, upperOpen = false) {
    webidl.requiredArguments(arguments.length, 2, "Failed to execute 'bound' on 'IDBKeyRange'");
    const l = keyOrThrow(lower), u = keyOrThrow(upper);
    const c = compareBytes(l, u);
    if (c > 0 || (c === 0 && (lowerOpen || upperOpen))) {
      throw dataError("The lower key is greater than the upper key, or they are equal and a bound is open.");
    }
    return new IDBKeyRange(illegal, l, u, !!lowerOpen, !!upperOpen);
  }
}
const IDBKeyRangePrototype = IDBKeyRange.prototype;
webidl.configureInterface(IDBKeyRange);

function rangeIncludes(range, key) {
  if (range[_lower] !== null) {
    const c = compareBytes(range[_lower], key);
    if (c > 0 || (c === 0 && range[_lowerOpen])) return false;
  }
  if (range[_upper] !== null) {
    const c = compareBytes(range[_upper], key);
    if (c < 0 || (c === 0 && range[_upperOpen])) return false;
  }
  return true;
}

const UNBOUNDED = { lower: EMPTY, upper: EMPTY, flags: 0 };

/** "Convert a value to a key range" into op arguments. */
function toRange(query, nullDisallowed = false) {
  if (query === undefined || query === null) {
    if (nullDisallowed) throw dataError("No key or key range specified.");
    return UNBOUNDED;
  }
  if (ObjectPrototypeIsPrototypeOf(IDBKeyRangePrototype, query)) {
    return {
      lower: query[_lower] ?? EMPTY,
      upper: query[_upper] ?? EMPTY,
      flags: (query[_lower] !== null && query[_lowerOpen] ? 1 : 0) | (query[_upper] !== null && query[_upperOpen] ? 2 : 0),
    };
  }
  const k = keyOrThrow(query);
  return { lower: k, upper: k, flags: 0 };
}

// ---------------------------------------------------------------------------
// Events.

const _oldVersion = Symbol("oldVersion"), _newVersion = Symbol("newVersion");

class IDBVersionChangeEvent extends Event {
  constructor(type, init = undefined) {
    const prefix = "Failed to construct 'IDBVersionChangeEvent'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    super(type, init);
    this[brand] = brand;
    this[_oldVersion] = init?.oldVersion !== undefined ? Number(init.oldVersion) : 0;
    this[_newVersion] = init?.newVersion !== undefined && init?.newVersion !== null ? Number(init.newVersion) : null;
  }
  get oldVersion() { webidl.assertBranded(this, IDBVersionChangeEventPrototype); return this[_oldVersion]; }
  get newVersion() { webidl.assertBranded(this, IDBVersionChangeEventPrototype); return this[_newVersion]; }
}
const IDBVersionChangeEventPrototype = IDBVersionChangeEvent.prototype;
webidl.configureInterface(IDBVersionChangeEvent);

// The event's internal slots, as deno_web's Event keeps them under
// module-private symbols: IDB events travel a path (request, transaction,
// connection) that deno_web's dispatch only builds for DOM nodes, so the
// path is walked here, with the same slots the DOM's dispatch sets.
const EVENT_SLOT_NAMES = [
  "[[canceledFlag]]",
  "[[stopPropagationFlag]]",
  "[[stopImmediatePropagationFlag]]",
  "[[inPassiveListener]]",
  "[[dispatched]]",
  "[[isTrusted]]",
  "[[path]]",
  "[[attributes]]",
];
const eventSlots = (() => {
  const found = ObjectGetOwnPropertySymbols(new Event("probe"));
  const bySlot = {};
  for (const symbol of found) bySlot[symbol.description] = symbol;
  const slots = {
    canceled: bySlot["[[canceledFlag]]"],
    stopPropagation: bySlot["[[stopPropagationFlag]]"],
    stopImmediatePropagation: bySlot["[[stopImmediatePropagationFlag]]"],
    inPassiveListener: bySlot["[[inPassiveListener]]"],
    dispatched: bySlot["[[dispatched]]"],
    isTrusted: bySlot["[[isTrusted]]"],
    path: bySlot["[[path]]"],
    attributes: bySlot["[[attributes]]"],
  };
  for (const name of ObjectKeys(slots)) {
    if (slots[name] === undefined) throw new TypeError(`IndexedDB: deno_web's Event has no ${name} slot`);
  }
  // The constructor sets exactly these slots, in this order: an event built
  // slot by slot (below) is then indistinguishable from a constructed one.
  slots.exact = found.length === EVENT_SLOT_NAMES.length &&
    ArrayPrototypeEvery(found, (symbol, i) => symbol.description === EVENT_SLOT_NAMES[i]);
  return slots;
})();
const EventPrototype = Event.prototype;

/**
 * A new `Event` of `type`, as `new Event(type, { bubbles, cancelable })`
 * makes it, without the constructor's argument conversions (the arguments
 * are ours): one is fired for every request.
 */
function simpleEvent(type, bubbles = false, cancelable = false) {
  if (!eventSlots.exact) return new Event(type, { bubbles, cancelable });
  const ev = ObjectCreate(EventPrototype);
  ev[eventSlots.canceled] = false;
  ev[eventSlots.stopPropagation] = false;
  ev[eventSlots.stopImmediatePropagation] = false;
  ev[eventSlots.inPassiveListener] = false;
  ev[eventSlots.dispatched] = false;
  ev[eventSlots.isTrusted] = false;
  ev[eventSlots.path] = [];
  ev[eventSlots.attributes] = {
    type,
    bubbles,
    cancelable,
    composed: false,
    currentTarget: null,
    eventPhase: 0,
    target: null,
    timeStamp: 0,
  };
  return ev;
}
const CAPTURING_PHASE = 1, AT_TARGET = 2, BUBBLING_PHASE = 3;
const _eventPath = Symbol("event path"), _parentEntry = Symbol("event path entry as a parent");

/**
 * Fires `ev` at `target` as the spec's IDB events do: a request's event
 * travels the path request -> transaction -> connection, and a
 * transaction's transaction -> connection (IDB's "get the parent"). The
 * DOM's dispatch along that path: capture listeners of the parents, then
 * the target's, then (when the event bubbles) the parents' other
 * listeners; `target` stays the request throughout. Returns true when the
 * default was not prevented.
 */
function fire(target, ev, parents = []) {
  if (!hasListeners(target, ev, parents)) return true;
  return dispatchPath(target, ev, parents);
}

/** Whether a listener threw in the last `fireTracked()`. */
let lastFireThrew = false;

/**
 * `fire()`, also setting `lastFireThrew` to whether a listener threw (the
 * DOM's "legacy output did listeners throw" flag).
 */
function fireTracked(target, ev, parents = []) {
  lastFireThrew = false;
  if (!hasListeners(target, ev, parents)) return true;
  return dispatchPath(target, ev, parents);
}

/** DOM "dispatch" of `ev` at `target` along the path `[target, ...parents]`. */
function dispatchPath(target, ev, parents) {
  if (ev[eventSlots.dispatched]) throw new DOMException("Invalid event state", "InvalidStateError");
  ev[eventSlots.isTrusted] = true;
  ev[eventSlots.dispatched] = true;
  const attributes = ev[eventSlots.attributes];
  attributes.target = target;
  // composedPath() reads the path in deno_web's struct shape. A target's
  // parents never change, so its path is made once (a cursor's request
  // fires an event per record) and only read while the event is dispatched.
  let path = target[_eventPath];
  if (path === undefined) {
    path = [pathStruct(target, target)];
    for (let i = 0; i < parents.length; i++) {
      const parent = parents[i];
      if (parent !== null && parent !== undefined) ArrayPrototypePush(path, parent[_parentEntry] ??= pathStruct(parent, null));
    }
    target[_eventPath] = path;
  }
  ev[eventSlots.path] = path;
  attributes.eventPhase = CAPTURING_PHASE;
  for (let i = path.length - 1; i > 0; i--) invokeListeners(path[i].item, ev, true);
  attributes.eventPhase = AT_TARGET;
  invokeListeners(target, ev, true);
  invokeListeners(target, ev, false);
  if (attributes.bubbles) {
    attributes.eventPhase = BUBBLING_PHASE;
    for (let i = 1; i < path.length; i++) invokeListeners(path[i].item, ev, false);
  }
  attributes.eventPhase = 0;
  attributes.currentTarget = null;
  ev[eventSlots.path] = [];
  ev[eventSlots.dispatched] = false;
  ev[eventSlots.stopPropagation] = false;
  ev[eventSlots.stopImmediatePropagation] = false;
  return !ev[eventSlots.canceled];
}

/** A path entry (never changed once made: a parent's is kept on it). */
function pathStruct(item, target) {
  return {
    item,
    itemInShadowTree: false,
    target,
    relatedTarget: null,
    touchTargetList: [],
    rootOfClosedTree: false,
    slotInClosedTree: false,
  };
}

/**
 * DOM "invoke" and "inner invoke": `item`'s listeners for the event's type
 * whose capture flag is `capture`, in order, on a copy of the list (a
 * listener added meanwhile does not run; one removed does not either).
 */
function invokeListeners(item, ev, capture) {
  if (ev[eventSlots.stopPropagation]) return;
  const listeners = item[eventTargetData]?.listeners[ev[eventSlots.attributes].type];
  if (listeners === undefined || listeners.length === 0) return;
  ev[eventSlots.attributes].currentTarget = item;
  // One listener needs no copy: it is checked against the list below.
  const handlers = listeners.length === 1 ? listeners : ArrayPrototypeSlice(listeners);
  const count = handlers.length;
  for (let i = 0; i < count; i++) {
    const listener = handlers[i];
    if (ev[eventSlots.stopImmediatePropagation]) return;
    const options = listener.options;
    const listenerCapture = typeof options === "boolean" ? options : options.capture;
    if (listenerCapture !== capture) continue;
    if (handlers !== listeners ? !ArrayPrototypeIncludes(listeners, listener) : listeners[0] !== listener) continue;
    if (typeof options === "object" && options.once) {
      item.removeEventListener(ev[eventSlots.attributes].type, listener.callback, { capture: listenerCapture });
    }
    const passive = typeof options === "object" && options.passive;
    if (passive) ev[eventSlots.inPassiveListener] = true;
    try {
      if (typeof listener.callback === "object") {
        if (typeof listener.callback.handleEvent === "function") listener.callback.handleEvent(ev);
      } else {
        FunctionPrototypeCall(listener.callback, item, ev);
      }
    } catch (error) {
      lastFireThrew = true;
      reportException(error);
    }
    if (passive) ev[eventSlots.inPassiveListener] = false;
  }
}

function listenerThrew() {
  return new DOMException("An event listener threw an exception.", "AbortError");
}

/**
 * Whether dispatching `ev` at `target` (and along `parents`) would reach a
 * listener. With none, the dispatch is not observable and is skipped: most
 * requests (10,000 puts, say) have no listener at all.
 */
function hasListeners(target, ev, parents) {
  const type = ev.type;
  if (listenerCount(target, type) !== 0) return true;
  for (const parent of parents) {
    if (parent !== null && parent !== undefined && listenerCount(parent, type) !== 0) return true;
  }
  return false;
}

/** A new task: the next turn of the realm's event loop. */
function nextTask() {
  return op_idb_tick();
}

// ---------------------------------------------------------------------------
// IDBRequest / IDBOpenDBRequest.

/**
 * The `on<name>` event handler attribute (HTML, event handlers) as deno_web's
 * `defineEventHandler` makes it: the first non-null value adds a listener
 * that calls the current value, at the end of the listener list; later
 * values replace the one it calls. Made without its per-target map and
 * addEventListener's option conversions: a handler is set on nearly every
 * request.
 */
function defineRequestEventHandler(prototype, name) {
  const wrapperSlot = Symbol(`on${name} handler`);
  const listenerOptions = { capture: false, once: false, passive: false, [kResistStopImmediatePropagation]: false };
  ObjectDefineProperty(prototype, `on${name}`, {
    __proto__: null,
    get() {
      return this[wrapperSlot]?.handler ?? null;
    },
    set(value) {
      if (typeof value !== "object" && typeof value !== "function") value = null;
      const existing = this[wrapperSlot];
      if (existing !== undefined) {
        existing.handler = value;
        return;
      }
      if (value === null) return;
      function wrappedHandler(event) {
        if (typeof wrappedHandler.handler !== "function") return;
        return FunctionPrototypeCall(wrappedHandler.handler, this, event);
      }
      wrappedHandler.handler = value;
      if (this[eventTargetData] === undefined) setEventTargetData(this);
      const listeners = this[eventTargetData].listeners;
      ArrayPrototypePush(listeners[name] ??= [], {
        callback: wrappedHandler,
        options: listenerOptions,
        signal: undefined,
        abortListener: undefined,
      });
      this[wrapperSlot] = wrappedHandler;
    },
    configurable: true,
    enumerable: true,
  });
}

const _result = Symbol("result"), _error = Symbol("error"), _source = Symbol("source"),
  _transaction = Symbol("transaction"), _done = Symbol("done");

class IDBRequest extends EventTarget {
  constructor(key = undefined) {
    checkIllegal(key);
    super();
    this[brand] = brand;
    this[_result] = undefined;
    this[_error] = null;
    this[_source] = null;
    this[_transaction] = null;
    this[_done] = false;
  }
  get result() {
    webidl.assertBranded(this, IDBRequestPrototype);
    if (!this[_done]) throw new DOMException("The request has not finished.", "InvalidStateError");
    return this[_result];
  }
  get error() {
    webidl.assertBranded(this, IDBRequestPrototype);
    if (!this[_done]) throw new DOMException("The request has not finished.", "InvalidStateError");
    return this[_error];
  }
  get source() { webidl.assertBranded(this, IDBRequestPrototype); return this[_source]; }
  get transaction() { webidl.assertBranded(this, IDBRequestPrototype); return this[_transaction]; }
  get readyState() { webidl.assertBranded(this, IDBRequestPrototype); return this[_done] ? "done" : "pending"; }
}
const IDBRequestPrototype = IDBRequest.prototype;
defineRequestEventHandler(IDBRequestPrototype, "success");
defineRequestEventHandler(IDBRequestPrototype, "error");
webidl.configureInterface(IDBRequest);

class IDBOpenDBRequest extends IDBRequest {
  constructor(key = undefined) {
    checkIllegal(key);
    super(illegal);
  }
}
defineEventHandler(IDBOpenDBRequest.prototype, "blocked");
defineEventHandler(IDBOpenDBRequest.prototype, "upgradeneeded");
webidl.configureInterface(IDBOpenDBRequest);

// ---------------------------------------------------------------------------
// DOMStringList (objectStoreNames, indexNames).

const _names = Symbol("names");

class DOMStringList {
  constructor(key = undefined, names = []) {
    checkIllegal(key);
    this[brand] = brand;
    this[_names] = names;
    for (let i = 0; i < names.length; i++) {
      ObjectDefineProperty(this, i, { value: names[i], enumerable: true, configurable: false, writable: false });
    }
  }
  get length() { webidl.assertBranded(this, DOMStringList.prototype); return this[_names].length; }
  item(index) { webidl.assertBranded(this, DOMStringList.prototype); return this[_names][index >>> 0] ?? null; }
  contains(string) { webidl.assertBranded(this, DOMStringList.prototype); return ArrayPrototypeIncludes(this[_names], String(string)); }
  [SymbolIterator]() { return this[_names][SymbolIterator](); }
}
webidl.configureInterface(DOMStringList);

function nameList(names) {
  const sorted = [...names];
  ArrayPrototypeSort(sorted, (a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return new DOMStringList(illegal, sorted);
}

// ---------------------------------------------------------------------------
// IDBDatabase.

const _conn = Symbol("connection"), _meta = Symbol("meta"), _name = Symbol("name"),
  _closePending = Symbol("closePending"), _upgrade = Symbol("upgrade transaction"),
  _transactions = Symbol("transactions"),
  _version = Symbol("version");

class IDBDatabase extends EventTarget {
  constructor(key = undefined, conn, name, meta) {
    checkIllegal(key);
    super();
    this[brand] = brand;
    this[_conn] = conn;
    this[_name] = name;
    this[_meta] = meta;
    this[_version] = meta ? meta.version : 0;
    this[_closePending] = false;
    this[_upgrade] = null;
    // Its unfinished transactions, aborted if the connection is closed by force.
    this[_transactions] = new SafeSet();
  }
  get name() { webidl.assertBranded(this, IDBDatabasePrototype); return this[_name]; }
  get version() { webidl.assertBranded(this, IDBDatabasePrototype); return this[_version]; }
  get objectStoreNames() {
    webidl.assertBranded(this, IDBDatabasePrototype);
    return nameList(this[_meta].stores.map((s) => s.name));
  }
  createObjectStore(name, options = undefined) {
    webidl.assertBranded(this, IDBDatabasePrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'createObjectStore' on 'IDBDatabase'");
    name = String(name);
    const tx = upgradeTransaction(this);
    const keyPath = normalizeKeyPath(options?.keyPath);
    const autoIncrement = !!options?.autoIncrement;
    if (storeByName(this[_meta], name)) {
      throw new DOMException(`An object store named '${name}' already exists.`, "ConstraintError");
    }
    if (autoIncrement && (keyPath === "" || ArrayIsArray(keyPath))) {
      throw new DOMException("An autoIncrement object store needs a non-empty, non-array key path.", "InvalidAccessError");
    }
    op_idb_create_store(tx[_id], name, keyPath, autoIncrement);
    refreshMeta(this);
    ArrayPrototypePush(tx[_scopeNames], name);
    return tx.objectStore(name);
  }
  deleteObjectStore(name) {
    webidl.assertBranded(this, IDBDatabasePrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'deleteObjectStore' on 'IDBDatabase'");
    name = String(name);
    const tx = upgradeTransaction(this);
    const store = storeByName(this[_meta], name);
    if (!store) throw new DOMException(`No object store named '${name}'.`, "NotFoundError");
    op_idb_delete_store(tx[_id], store.id);
    refreshMeta(this);
    const handle = tx[_stores].get(name);
    if (handle) {
      handle[_deleted] = true;
      tx[_stores].delete(name);
    }
    const i = ArrayPrototypeIndexOf(tx[_scopeNames], name);
    if (i >= 0) tx[_scopeNames].splice(i, 1);
  }
  transaction(storeNames, mode = "readonly", options = undefined) {
    webidl.assertBranded(this, IDBDatabasePrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'transaction' on 'IDBDatabase'");
    if (this[_upgrade] !== null && this[_upgrade][_state] !== "finished") {
      throw new DOMException("A version change transaction is running.", "InvalidStateError");
    }
    if (this[_closePending]) throw new DOMException("The database connection is closing.", "InvalidStateError");
    const names = [];
    if (typeof storeNames === "string") {
      ArrayPrototypePush(names, storeNames);
    } else {
      for (const n of storeNames) {
        const s = String(n);
        if (!ArrayPrototypeIncludes(names, s)) ArrayPrototypePush(names, s);
      }
    }
    const ids = [];
    for (const n of names) {
      const store = storeByName(this[_meta], n);
      if (!store) throw new DOMException(`No object store named '${n}'.`, "NotFoundError");
      ArrayPrototypePush(ids, store.id);
    }
    if (names.length === 0) throw new DOMException("No object store names were given.", "InvalidAccessError");
    mode = String(mode);
    if (mode !== "readonly" && mode !== "readwrite") {
      throw new TypeError(`The provided value '${mode}' is not a valid enum value of type IDBTransactionMode.`);
    }
    const durability = options?.durability === undefined ? "default" : String(options.durability);
    if (durability !== "default" && durability !== "strict" && durability !== "relaxed") {
      throw new TypeError(`The provided value '${durability}' is not a valid enum value of type IDBTransactionDurability.`);
    }
    const id = op_idb_txn_create(this[_conn], ids, mode, durability);
    const tx = new IDBTransaction(illegal, this, id, mode, names, durability);
    runTransaction(tx);
    return tx;
  }
  close() {
    webidl.assertBranded(this, IDBDatabasePrototype);
    closeConnection(this);
  }
}
const IDBDatabasePrototype = IDBDatabase.prototype;
defineEventHandler(IDBDatabasePrototype, "abort");
defineEventHandler(IDBDatabasePrototype, "close");
defineEventHandler(IDBDatabasePrototype, "error");
defineEventHandler(IDBDatabasePrototype, "versionchange");
webidl.configureInterface(IDBDatabase);

/**
 * "Close a database connection" with the forced flag (the host cleared the
 * origin's data): the backend has aborted the connection's transactions;
 * each fires its abort with AbortError, then the connection fires `close`.
 */
function forceClosed(db) {
  const wasClosing = db[_closePending];
  db[_closePending] = true;
  for (const tx of db[_transactions]) {
    if (tx[_state] !== "finished") {
      finishAbort(tx, new DOMException("The database connection was closed.", "AbortError"), true);
    }
  }
  db[_transactions].clear();
  // After the aborts' events, which are queued.
  if (!wasClosing) nextTask().then(() => fire(db, simpleEvent("close")));
}

function closeConnection(db) {
  if (db[_closePending]) return;
  db[_closePending] = true;
  op_idb_close(db[_conn]);
}

function storeByName(meta, name) {
  for (const s of meta.stores) if (s.name === name) return s;
  return undefined;
}

function storeById(meta, id) {
  for (const s of meta.stores) if (s.id === id) return s;
  return undefined;
}

function refreshMeta(db) {
  db[_meta] = op_idb_meta(db[_conn]);
}

function upgradeTransaction(db) {
  const tx = db[_upgrade];
  if (tx === null || tx[_state] === "finished") {
    throw new DOMException("Not in a version change transaction.", "InvalidStateError");
  }
  if (tx[_state] !== "active") throw new DOMException("The transaction is not active.", "TransactionInactiveError");
  return tx;
}

/** Dispatches `versionchange` at a connection each time another realm asks. */
async function listenForVersionChange(db) {
  while (true) {
    const promise = op_idb_versionchange_next(db[_conn]);
    core.unrefOpPromise(promise);
    const change = await promise;
    if (change === null) return;
    if (change[2]) {
      forceClosed(db);
      return;
    }
    if (!db[_closePending]) {
      const ev = new IDBVersionChangeEvent("versionchange", { oldVersion: change[0], newVersion: change[1] });
      fire(db, ev);
    }
    op_idb_versionchange_handled(db[_conn]);
    if (db[_closePending]) return;
  }
}

// ---------------------------------------------------------------------------
// IDBTransaction and the request queue.

const _id = Symbol("id"), _db = Symbol("db"), _mode = Symbol("mode"), _state = Symbol("state"),
  _queue = Symbol("queue"), _scopeNames = Symbol("scope names"), _stores = Symbol("stores"),
  _durability = Symbol("durability"),
  _openRequest = Symbol("open request"), _finished = Symbol("finished"), _started = Symbol("started"),
  _head = Symbol("queue head");

class IDBTransaction extends EventTarget {
  constructor(key = undefined, db, id, mode, scopeNames, durability) {
    checkIllegal(key);
    super();
    this[brand] = brand;
    this[_db] = db;
    this[_id] = id;
    this[_mode] = mode;
    this[_scopeNames] = scopeNames;
    this[_durability] = durability;
    this[_state] = "active";
    this[_error] = null;
    // Requests not yet performed, in order, from index _head on.
    this[_queue] = [];
    this[_head] = 0;
    // Counts performed writes: a cursor's prefetched records are stale after one.
    this[_writes] = 0;
    this[_stores] = new SafeMap();
    this[_openRequest] = null;
    this[_started] = false;
    this[_finished] = null;
    db[_transactions].add(this);
  }
  get objectStoreNames() {
    webidl.assertBranded(this, IDBTransactionPrototype);
    if (this[_mode] === "versionchange") return this[_db].objectStoreNames;
    return nameList(this[_scopeNames]);
  }
  get mode() { webidl.assertBranded(this, IDBTransactionPrototype); return this[_mode]; }
  get durability() { webidl.assertBranded(this, IDBTransactionPrototype); return this[_durability]; }
  get db() { webidl.assertBranded(this, IDBTransactionPrototype); return this[_db]; }
  get error() { webidl.assertBranded(this, IDBTransactionPrototype); return this[_error]; }
  objectStore(name) {
    webidl.assertBranded(this, IDBTransactionPrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'objectStore' on 'IDBTransaction'");
    name = String(name);
    if (this[_state] === "finished") throw new DOMException("The transaction has finished.", "InvalidStateError");
    const meta = storeByName(this[_db][_meta], name);
    if (!meta || (this[_mode] !== "versionchange" && !ArrayPrototypeIncludes(this[_scopeNames], name))) {
      throw new DOMException(`No object store named '${name}' in this transaction.`, "NotFoundError");
    }
    let store = this[_stores].get(name);
    if (!store) {
      store = new IDBObjectStore(illegal, this, meta.id);
      this[_stores].set(name, store);
    }
    return store;
  }
  commit() {
    webidl.assertBranded(this, IDBTransactionPrototype);
    if (this[_state] !== "active") {
      throw new DOMException("The transaction is not active.", this[_state] === "finished" || this[_state] === "committing" ? "InvalidStateError" : "TransactionInactiveError");
    }
    this[_state] = "committing";
  }
  abort() {
    webidl.assertBranded(this, IDBTransactionPrototype);
    if (this[_state] === "finished" || this[_state] === "committing") {
      throw new DOMException("The transaction has finished.", "InvalidStateError");
    }
    abortTransaction(this, null);
  }
}
const IDBTransactionPrototype = IDBTransaction.prototype;
defineEventHandler(IDBTransactionPrototype, "abort");
defineEventHandler(IDBTransactionPrototype, "complete");
defineEventHandler(IDBTransactionPrototype, "error");
webidl.configureInterface(IDBTransaction);

function checkActive(tx) {
  if (tx[_state] !== "active") {
    throw new DOMException("The transaction is not active.", "TransactionInactiveError");
  }
}

/** Queues an operation; `run` returns the result or throws a DOMException. */
function queueRequest(tx, source, run, request = null) {
  if (request === null) {
    request = new IDBRequest(illegal);
    request[_source] = source;
    request[_transaction] = tx;
  }
  request[_done] = false;
  ArrayPrototypePush(tx[_queue], { request, run, internal: false });
  return request;
}

/**
 * Queues `fn` as a task of its own (an immediate: it runs in the event
 * loop's next turn, with a microtask checkpoint before it).
 */
function queueTask(fn) {
  core.immediateRefCount(true);
  core.queueImmediate({
    _onImmediate() {
      core.immediateRefCount(false);
      fn();
    },
    _destroyed: false,
    _idleNext: null,
    _idlePrev: null,
    asyncId: 0,
    triggerAsyncId: 0,
  });
}

/** How long one task may fire events before it yields to other tasks (ms). */
const TASK_BUDGET_MS = 8;

/** Runs a transaction: waits for the scheduler, then fires its requests' events. */
async function runTransaction(tx) {
  // Keeps the realm counted as busy until the transaction ends.
  op_idb_txn_hold(tx[_id]);
  if (!op_idb_txn_try_start(tx[_id])) await op_idb_txn_start(tx[_id]);
  tx[_started] = true;
  queueTask(() => fireRequests(tx));
}

/**
 * Performs queued requests in order and fires each one's event, each as the
 * spec's task: the transaction is active while the event is dispatched and
 * through the microtask checkpoint after it (so a promise continuation may
 * place the next request), inactive after. Events fired back to back in one
 * event loop turn are still separated by that checkpoint, as tasks are.
 */
function fireRequests(tx) {
  const started = DateNow();
  if (tx[_state] === "finished") return;
  if (tx[_state] === "active") tx[_state] = "inactive";
  while (true) {
    const queue = tx[_queue];
    if (tx[_head] === queue.length) {
      queue.length = 0;
      tx[_head] = 0;
      commitTransaction(tx);
      return;
    }
    if (DateNow() - started > TASK_BUDGET_MS) {
      queueTask(() => fireRequests(tx));
      return;
    }
    const { request, run } = queue[tx[_head]];
    queue[tx[_head]++] = undefined;
    let failed = false;
    try {
      request[_result] = run();
      request[_error] = null;
    } catch (error) {
      failed = true;
      request[_result] = undefined;
      request[_error] = ObjectPrototypeIsPrototypeOf(DOMException.prototype, error)
        ? error
        : new DOMException(String(error?.message ?? error), "UnknownError");
    }
    request[_done] = true;
    if (tx[_state] !== "committing") tx[_state] = "active";
    if (failed) {
      // "Fire an error event": a listener that threw aborts the transaction
      // with AbortError even when the event was canceled; otherwise an
      // event not canceled aborts it with the request's error.
      const proceed = fireTracked(request, simpleEvent("error", true, true), [tx, tx[_db]]);
      if (tx[_state] !== "finished" && (lastFireThrew || proceed)) {
        abortTransaction(tx, lastFireThrew ? listenerThrew() : request[_error]);
      }
    } else {
      // "Fire a success event": a listener that threw aborts the transaction.
      fireTracked(request, simpleEvent("success"), [tx, tx[_db]]);
      if (lastFireThrew && tx[_state] !== "finished") abortTransaction(tx, listenerThrew());
    }
    core.runMicrotasks();
    if (tx[_state] === "finished") return;
    if (tx[_state] === "active") tx[_state] = "inactive";
  }
}

async function commitTransaction(tx) {
  tx[_state] = "committing";
  try {
    await op_idb_txn_commit(tx[_id]);
  } catch (error) {
    finishAbort(tx, ObjectPrototypeIsPrototypeOf(DOMException.prototype, error)
      ? error
      : new DOMException(String(error?.message ?? error), "UnknownError"), false);
    return;
  }
  tx[_state] = "finished";
  const db = tx[_db];
  db[_transactions].delete(tx);
  if (tx[_mode] === "versionchange") db[_upgrade] = null;
  fire(tx, simpleEvent("complete"), [db]);
  tx[_finished]?.(true);
}

/** The spec's "abort a transaction" with `error` (null: by script). */
function abortTransaction(tx, error) {
  op_idb_txn_abort(tx[_id]);
  finishAbort(tx, error, true);
}

function finishAbort(tx, error, queued) {
  if (tx[_state] === "finished") return;
  tx[_state] = "finished";
  tx[_error] = error;
  const db = tx[_db];
  db[_transactions].delete(tx);
  if (tx[_mode] === "versionchange") {
    // The connection reverts to the schema it had, and closes.
    db[_version] = tx[_oldVersion] ?? 0;
    try {
      refreshMeta(db);
    } catch {
      // The connection is already gone.
    }
    db[_closePending] = true;
    for (const store of tx[_stores].values()) store[_deleted] = false;
  }
  const pending = [];
  for (let i = tx[_head]; i < tx[_queue].length; i++) {
    const entry = tx[_queue][i];
    if (!entry.internal) ArrayPrototypePush(pending, entry.request);
  }
  tx[_queue] = [];
  tx[_head] = 0;
  const deliver = () => {
    for (const request of pending) {
      request[_done] = true;
      request[_result] = undefined;
      request[_error] = new DOMException("The transaction was aborted.", "AbortError");
      fire(request, simpleEvent("error", true, true), [tx, db]);
    }
    fire(tx, simpleEvent("abort", true), [db]);
    if (tx[_mode] === "versionchange") db[_upgrade] = null;
    tx[_finished]?.(false);
  };
  if (queued) nextTask().then(deliver);
  else deliver();
}

// ---------------------------------------------------------------------------
// IDBObjectStore.

const _txn = Symbol("transaction"), _storeId = Symbol("store id"), _deleted = Symbol("deleted"),
  _indexes = Symbol("indexes");

class IDBObjectStore {
  constructor(key = undefined, tx, storeId) {
    checkIllegal(key);
    this[brand] = brand;
    this[_txn] = tx;
    this[_storeId] = storeId;
    this[_deleted] = false;
    this[_indexes] = new SafeMap();
  }
  get name() { webidl.assertBranded(this, IDBObjectStorePrototype); return storeMeta(this).name; }
  set name(value) {
    webidl.assertBranded(this, IDBObjectStorePrototype);
    value = String(value);
    const tx = this[_txn];
    if (tx[_mode] !== "versionchange" || this[_deleted]) {
      throw new DOMException("Object stores are renamed in a version change transaction.", "InvalidStateError");
    }
    checkActive(tx);
    const meta = storeMeta(this);
    if (meta.name === value) return;
    if (storeByName(tx[_db][_meta], value)) {
      throw new DOMException(`An object store named '${value}' already exists.`, "ConstraintError");
    }
    op_idb_rename_store(tx[_id], meta.id, value);
    tx[_stores].delete(meta.name);
    tx[_stores].set(value, this);
    refreshMeta(tx[_db]);
  }
  get keyPath() { webidl.assertBranded(this, IDBObjectStorePrototype); return copyKeyPath(storeMeta(this).keyPath); }
  get indexNames() { webidl.assertBranded(this, IDBObjectStorePrototype); return nameList(storeMeta(this).indexes.map((i) => i.name)); }
  get transaction() { webidl.assertBranded(this, IDBObjectStorePrototype); return this[_txn]; }
  get autoIncrement() { webidl.assertBranded(this, IDBObjectStorePrototype); return storeMeta(this).autoIncrement; }

  put(value, key = undefined) {
    webidl.assertBranded(this, IDBObjectStorePrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'put' on 'IDBObjectStore'");
    return addOrPut(this, value, key, arguments.length > 1, false);
  }
  add(value, key = undefined) {
    webidl.assertBranded(this, IDBObjectStorePrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'add' on 'IDBObjectStore'");
    return addOrPut(this, value, key, arguments.length > 1, true);
  }
  delete(query) {
    webidl.assertBranded(this, IDBObjectStorePrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'delete' on 'IDBObjectStore'");
    const tx = writableStore(this);
    const range = toRange(query, true);
    const storeId = this[_storeId];
    return queueRequest(tx, this, () => {
      op_idb_delete(tx[_id], storeId, range.lower, range.upper, range.flags);
      tx[_writes]++;
      return undefined;
    });
  }
  clear() {
    webidl.assertBranded(this, IDBObjectStorePrototype);
    const tx = writableStore(this);
    const storeId = this[_storeId];
    return queueRequest(tx, this, () => {
      op_idb_clear(tx[_id], storeId);
      tx[_writes]++;
      return undefined;
    });
  }
  get(query) {
    webidl.assertBranded(this, IDBObjectStorePrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'get' on 'IDBObjectStore'");
    return readRequest(this, -1, toRange(query, true), 1, 4, firstValue);
  }
  getKey(query) {
    webidl.assertBranded(this, IDBObjectStorePrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'getKey' on 'IDBObjectStore'");
    return readRequest(this, -1, toRange(query, true), 1, 2, firstKey);
  }
  getAll(query = undefined, count = undefined) {
    webidl.assertBranded(this, IDBObjectStorePrototype);
    return readRequest(this, -1, toRange(query), countArg(count), 4, allValues);
  }
  getAllKeys(query = undefined, count = undefined) {
    webidl.assertBranded(this, IDBObjectStorePrototype);
    return readRequest(this, -1, toRange(query), countArg(count), 2, allKeys);
  }
  count(query = undefined) {
    webidl.assertBranded(this, IDBObjectStorePrototype);
    return countRequest(this, -1, toRange(query));
  }
  openCursor(query = undefined, direction = "next") {
    webidl.assertBranded(this, IDBObjectStorePrototype);
    return openCursor(this, -1, query, direction, false);
  }
  openKeyCursor(query = undefined, direction = "next") {
    webidl.assertBranded(this, IDBObjectStorePrototype);
    return openCursor(this, -1, query, direction, true);
  }
  index(name) {
    webidl.assertBranded(this, IDBObjectStorePrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'index' on 'IDBObjectStore'");
    name = String(name);
    const tx = this[_txn];
    if (this[_deleted]) throw new DOMException("The object store was deleted.", "InvalidStateError");
    if (tx[_state] === "finished") throw new DOMException("The transaction has finished.", "InvalidStateError");
    const meta = indexByName(storeMeta(this), name);
    if (!meta) throw new DOMException(`No index named '${name}'.`, "NotFoundError");
    let index = this[_indexes].get(meta.id);
    if (!index) {
      index = new IDBIndex(illegal, this, meta.id);
      this[_indexes].set(meta.id, index);
    }
    return index;
  }
  createIndex(name, keyPath, options = undefined) {
    webidl.assertBranded(this, IDBObjectStorePrototype);
    webidl.requiredArguments(arguments.length, 2, "Failed to execute 'createIndex' on 'IDBObjectStore'");
    name = String(name);
    const tx = this[_txn];
    if (tx[_mode] !== "versionchange" || this[_deleted]) {
      throw new DOMException("Indexes are created in a version change transaction.", "InvalidStateError");
    }
    checkActive(tx);
    const store = storeMeta(this);
    if (indexByName(store, name)) throw new DOMException(`An index named '${name}' already exists.`, "ConstraintError");
    const path = normalizeKeyPath(keyPath);
    const unique = !!options?.unique;
    const multiEntry = !!options?.multiEntry;
    if (multiEntry && ArrayIsArray(path)) {
      throw new DOMException("A multiEntry index cannot have an array key path.", "InvalidAccessError");
    }
    const indexId = op_idb_create_index(tx[_id], store.id, name, path, unique, multiEntry);
    refreshMeta(tx[_db]);
    // The spec populates the index as a queued operation: a unique
    // violation among existing records aborts the upgrade.
    const index = { id: indexId, keyPath: path, multiEntry };
    const storeId = store.id;
    queueRequest(tx, this, () => {
      const parts = unpack(op_idb_get_all(tx[_id], storeId, -1, EMPTY, EMPTY, 0, 0, 0, 6));
      for (let i = 0; i < parts.length; i += 2) {
        const keys = indexKeys(restoreValue(parts[i + 1]), index);
        op_idb_add_index_keys(tx[_id], storeId, indexId, parts[i], pack(keys));
      }
      return undefined;
    });
    // That request is internal: no script sees it.
    tx[_queue][tx[_queue].length - 1].internal = true;
    return this.index(name);
  }
  deleteIndex(name) {
    webidl.assertBranded(this, IDBObjectStorePrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'deleteIndex' on 'IDBObjectStore'");
    name = String(name);
    const tx = this[_txn];
    if (tx[_mode] !== "versionchange" || this[_deleted]) {
      throw new DOMException("Indexes are deleted in a version change transaction.", "InvalidStateError");
    }
    checkActive(tx);
    const meta = indexByName(storeMeta(this), name);
    if (!meta) throw new DOMException(`No index named '${name}'.`, "NotFoundError");
    op_idb_delete_index(tx[_id], this[_storeId], meta.id);
    const handle = this[_indexes].get(meta.id);
    if (handle) handle[_deleted] = true;
    this[_indexes].delete(meta.id);
    refreshMeta(tx[_db]);
  }
}
const IDBObjectStorePrototype = IDBObjectStore.prototype;
webidl.configureInterface(IDBObjectStore);

function copyKeyPath(path) {
  return ArrayIsArray(path) ? [...path] : path;
}

function storeMeta(store) {
  const meta = storeById(store[_txn][_db][_meta], store[_storeId]);
  if (!meta || store[_deleted]) throw new DOMException("The object store was deleted.", "InvalidStateError");
  return meta;
}

function indexByName(store, name) {
  for (const i of store.indexes) if (i.name === name) return i;
  return undefined;
}

function countArg(count) {
  if (count === undefined) return 0;
  return webidl.converters["unsigned long"](count, "getAll", "count", { enforceRange: true });
}

function readableStore(store) {
  const tx = store[_txn];
  storeMeta(store);
  checkActive(tx);
  return tx;
}

function writableStore(store) {
  const tx = readableStore(store);
  if (tx[_mode] === "readonly") throw new DOMException("The transaction is read-only.", "ReadOnlyError");
  return tx;
}

function addOrPut(store, value, key, keyGiven, noOverwrite) {
  const tx = writableStore(store);
  const meta = storeMeta(store);
  const keyPath = meta.keyPath;
  if (keyPath !== null && keyGiven && key !== undefined) {
    throw dataError("The object store uses in-line keys and the key parameter was provided.");
  }
  if (keyPath === null && !meta.autoIncrement && (!keyGiven || key === undefined)) {
    throw dataError("The object store uses out-of-line keys and has no key generator and the key parameter was not provided.");
  }
  let encoded = null;
  if (keyGiven && key !== undefined) encoded = keyOrThrow(key);
  const clone = cloneValue(value);
  if (keyPath !== null) {
    const k = extractKey(value, keyPath);
    if (k === null) throw dataError("Evaluating the object store's key path yielded a value that is not a valid key.");
    if (k === FAILURE) {
      if (!meta.autoIncrement) throw dataError("Evaluating the object store's key path did not yield a value.");
      if (!couldInjectKey(value, keyPath)) throw dataError("A generated key could not be inserted into the value.");
    } else {
      encoded = k;
    }
  }
  const storeId = meta.id;
  const indexKeyBytes = packIndexKeys(meta, value);
  return queueRequest(tx, store, () => {
    let bytes = clone;
    let indexBytes = indexKeyBytes;
    let k = encoded;
    if (k === null) {
      const generated = op_idb_generate_key(tx[_id], storeId);
      k = encodeKey(generated);
      if (keyPath !== null) {
        const copy = restoreValue(clone);
        injectKey(copy, generated, keyPath);
        bytes = cloneValue(copy);
        indexBytes = packIndexKeys(storeById(tx[_db][_meta], storeId), copy);
      }
    }
    op_idb_put(tx[_id], storeId, k, bytes, indexBytes, noOverwrite);
    tx[_writes]++;
    return decodeKey(k);
  });
}

// What a read request makes of the records it found (shared, not a
// closure per request).
const firstValue = (parts) => (parts.length ? restoreValue(parts[0]) : undefined);
const firstKey = (parts) => (parts.length ? decodeKey(parts[0]) : undefined);
const allValues = (parts) => ArrayPrototypeMap(parts, restoreValue);
const allKeys = (parts) => ArrayPrototypeMap(parts, decodeKey);

function readRequest(source, indexId, range, limit, what, convert) {
  const store = indexId === -1 ? source : source[_store];
  const tx = readableStore(store);
  const storeId = store[_storeId];
  return queueRequest(tx, source, () => {
    const out = op_idb_get_all(tx[_id], storeId, indexId, range.lower, range.upper, range.flags, limit, 0, what);
    return convert(unpack(out));
  });
}

function countRequest(source, indexId, range) {
  const store = indexId === -1 ? source : source[_store];
  const tx = readableStore(store);
  const storeId = store[_storeId];
  return queueRequest(tx, source, () => op_idb_count(tx[_id], storeId, indexId, range.lower, range.upper, range.flags));
}

// ---------------------------------------------------------------------------
// IDBIndex.

const _store = Symbol("store"), _indexId = Symbol("index id");

class IDBIndex {
  constructor(key = undefined, store, indexId) {
    checkIllegal(key);
    this[brand] = brand;
    this[_store] = store;
    this[_indexId] = indexId;
    this[_deleted] = false;
  }
  get name() { webidl.assertBranded(this, IDBIndexPrototype); return indexMeta(this).name; }
  set name(value) {
    webidl.assertBranded(this, IDBIndexPrototype);
    value = String(value);
    const tx = this[_store][_txn];
    if (tx[_mode] !== "versionchange" || this[_deleted]) {
      throw new DOMException("Indexes are renamed in a version change transaction.", "InvalidStateError");
    }
    checkActive(tx);
    const meta = indexMeta(this);
    if (meta.name === value) return;
    if (indexByName(storeMeta(this[_store]), value)) {
      throw new DOMException(`An index named '${value}' already exists.`, "ConstraintError");
    }
    op_idb_rename_index(tx[_id], this[_store][_storeId], meta.id, value);
    refreshMeta(tx[_db]);
  }
  get objectStore() { webidl.assertBranded(this, IDBIndexPrototype); return this[_store]; }
  get keyPath() { webidl.assertBranded(this, IDBIndexPrototype); return copyKeyPath(indexMeta(this).keyPath); }
  get multiEntry() { webidl.assertBranded(this, IDBIndexPrototype); return indexMeta(this).multiEntry; }
  get unique() { webidl.assertBranded(this, IDBIndexPrototype); return indexMeta(this).unique; }
  get(query) {
    webidl.assertBranded(this, IDBIndexPrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'get' on 'IDBIndex'");
    indexMeta(this);
    return readRequest(this, this[_indexId], toRange(query, true), 1, 4, firstValue);
  }
  getKey(query) {
    webidl.assertBranded(this, IDBIndexPrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'getKey' on 'IDBIndex'");
    indexMeta(this);
    return readRequest(this, this[_indexId], toRange(query, true), 1, 2, firstKey);
  }
  getAll(query = undefined, count = undefined) {
    webidl.assertBranded(this, IDBIndexPrototype);
    indexMeta(this);
    return readRequest(this, this[_indexId], toRange(query), countArg(count), 4, allValues);
  }
  getAllKeys(query = undefined, count = undefined) {
    webidl.assertBranded(this, IDBIndexPrototype);
    indexMeta(this);
    return readRequest(this, this[_indexId], toRange(query), countArg(count), 2, allKeys);
  }
  count(query = undefined) {
    webidl.assertBranded(this, IDBIndexPrototype);
    indexMeta(this);
    return countRequest(this, this[_indexId], toRange(query));
  }
  openCursor(query = undefined, direction = "next") {
    webidl.assertBranded(this, IDBIndexPrototype);
    indexMeta(this);
    return openCursor(this, this[_indexId], query, direction, false);
  }
  openKeyCursor(query = undefined, direction = "next") {
    webidl.assertBranded(this, IDBIndexPrototype);
    indexMeta(this);
    return openCursor(this, this[_indexId], query, direction, true);
  }
}
const IDBIndexPrototype = IDBIndex.prototype;
webidl.configureInterface(IDBIndex);

function indexMeta(index) {
  const store = storeMeta(index[_store]);
  for (const i of store.indexes) if (i.id === index[_indexId] && !index[_deleted]) return i;
  throw new DOMException("The index was deleted.", "InvalidStateError");
}

// ---------------------------------------------------------------------------
// IDBCursor / IDBCursorWithValue.

const DIRECTIONS = ["next", "nextunique", "prev", "prevunique"];
const _direction = Symbol("direction"), _range = Symbol("range"),
  _key = Symbol("key"), _primaryKey = Symbol("primary key"), _value = Symbol("value"),
  _gotValue = Symbol("got value"), _request = Symbol("request"), _keyOnly = Symbol("key only"),
  _keyBytes = Symbol("key bytes"), _primaryBytes = Symbol("primary key bytes"),
  _cache = Symbol("prefetched records"), _cacheAt = Symbol("prefetch position"),
  _cacheWrites = Symbol("writes when prefetched"), _writes = Symbol("writes"),
  _valueBytes = Symbol("value bytes"), _prefetch = Symbol("prefetch size"),
  _target = Symbol("iteration target"), _count = Symbol("iteration count"),
  _entry = Symbol("queue entry");

// A cursor's key, primary key and value are decoded when script first reads
// them (as Blink does): a walk that reads only some of them does not pay for
// the rest. The record's bytes are the cursor's own, so the value read later
// is the one the cursor was at.
const NOT_DECODED = Symbol("not decoded");

class IDBCursor {
  constructor(key = undefined, source, indexId, range, direction, keyOnly) {
    checkIllegal(key);
    this[brand] = brand;
    this[_source] = source;
    this[_indexId] = indexId;
    this[_range] = range;
    this[_direction] = direction;
    this[_keyOnly] = keyOnly;
    this[_keyBytes] = null;
    this[_primaryBytes] = null;
    this[_key] = undefined;
    this[_primaryKey] = undefined;
    this[_value] = undefined;
    this[_valueBytes] = null;
    this[_prefetch] = CURSOR_PREFETCH_MIN;
    this[_target] = EMPTY;
    this[_count] = 1;
    this[_entry] = null;
    this[_gotValue] = false;
    this[_request] = null;
    this[_cache] = null;
    this[_cacheAt] = 0;
    this[_cacheWrites] = 0;
  }
  get source() { webidl.assertBranded(this, IDBCursorPrototype); return this[_source]; }
  get direction() { webidl.assertBranded(this, IDBCursorPrototype); return this[_direction]; }
  get key() {
    webidl.assertBranded(this, IDBCursorPrototype);
    if (this[_key] === NOT_DECODED) this[_key] = decodeKey(this[_keyBytes]);
    return this[_key];
  }
  get primaryKey() {
    webidl.assertBranded(this, IDBCursorPrototype);
    if (this[_primaryKey] === NOT_DECODED) this[_primaryKey] = decodeKey(this[_primaryBytes]);
    return this[_primaryKey];
  }
  get request() { webidl.assertBranded(this, IDBCursorPrototype); return this[_request]; }
  advance(count) {
    webidl.assertBranded(this, IDBCursorPrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'advance' on 'IDBCursor'");
    count = webidl.converters["unsigned long"](count, "advance", "count", { enforceRange: true });
    if (count === 0) throw new TypeError("Failed to execute 'advance' on 'IDBCursor': A count argument with value 0 (zero) was supplied, must be greater than 0.");
    checkCursor(this);
    iterate(this, EMPTY, count);
  }
  continue(key = undefined) {
    webidl.assertBranded(this, IDBCursorPrototype);
    checkCursor(this);
    let target = EMPTY;
    if (key !== undefined) {
      const k = keyOrThrow(key);
      const c = compareBytes(k, this[_keyBytes]);
      const forward = this[_direction] === "next" || this[_direction] === "nextunique";
      if ((forward && c <= 0) || (!forward && c >= 0)) {
        throw dataError("The key is not beyond the cursor's position in its direction.");
      }
      target = pack([k]);
    }
    iterate(this, target, 1);
  }
  continuePrimaryKey(key, primaryKey) {
    webidl.assertBranded(this, IDBCursorPrototype);
    webidl.requiredArguments(arguments.length, 2, "Failed to execute 'continuePrimaryKey' on 'IDBCursor'");
    const tx = cursorStore(this)[_txn];
    if (cursorSourceDeleted(this)) throw new DOMException("The cursor's source was deleted.", "InvalidStateError");
    checkActive(tx);
    if (this[_indexId] === -1) throw new DOMException("continuePrimaryKey() needs an index cursor.", "InvalidAccessError");
    if (this[_direction] === "nextunique" || this[_direction] === "prevunique") {
      throw new DOMException("continuePrimaryKey() needs a non-unique direction.", "InvalidAccessError");
    }
    if (!this[_gotValue]) throw new DOMException("The cursor is being iterated or has iterated past its end.", "InvalidStateError");
    const k = keyOrThrow(key);
    const pk = keyOrThrow(primaryKey);
    const c = compareBytes(k, this[_keyBytes]);
    const cp = compareBytes(pk, this[_primaryBytes]);
    if (this[_direction] === "next" && (c < 0 || (c === 0 && cp <= 0))) {
      throw dataError("The key is not beyond the cursor's position.");
    }
    if (this[_direction] === "prev" && (c > 0 || (c === 0 && cp >= 0))) {
      throw dataError("The key is not before the cursor's position.");
    }
    iterate(this, pack([k, pk]), 1);
  }
  update(value) {
    webidl.assertBranded(this, IDBCursorPrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'update' on 'IDBCursor'");
    const store = cursorStore(this);
    const tx = store[_txn];
    checkActive(tx);
    if (tx[_mode] === "readonly") throw new DOMException("The transaction is read-only.", "ReadOnlyError");
    if (cursorSourceDeleted(this)) throw new DOMException("The cursor's source was deleted.", "InvalidStateError");
    if (!this[_gotValue] || this[_keyOnly]) throw new DOMException("The cursor is not at a record.", "InvalidStateError");
    const meta = storeMeta(store);
    const clone = cloneValue(value);
    if (meta.keyPath !== null) {
      const k = extractKey(value, meta.keyPath);
      if (k === null || k === FAILURE || compareBytes(k, this[_primaryBytes]) !== 0) {
        throw dataError("The key path of the new value does not match the cursor's primary key.");
      }
    }
    const pk = this[_primaryBytes];
    const indexBytes = packIndexKeys(meta, value);
    const storeId = meta.id;
    const request = queueRequest(tx, this, () => {
      op_idb_put(tx[_id], storeId, pk, clone, indexBytes, false);
      tx[_writes]++;
      return decodeKey(pk);
    });
    return request;
  }
  delete() {
    webidl.assertBranded(this, IDBCursorPrototype);
    const store = cursorStore(this);
    const tx = store[_txn];
    checkActive(tx);
    if (tx[_mode] === "readonly") throw new DOMException("The transaction is read-only.", "ReadOnlyError");
    if (cursorSourceDeleted(this)) throw new DOMException("The cursor's source was deleted.", "InvalidStateError");
    if (!this[_gotValue] || this[_keyOnly]) throw new DOMException("The cursor is not at a record.", "InvalidStateError");
    const pk = this[_primaryBytes];
    const storeId = store[_storeId];
    return queueRequest(tx, this, () => {
      op_idb_delete(tx[_id], storeId, pk, pk, 0);
      tx[_writes]++;
      return undefined;
    });
  }
}
const IDBCursorPrototype = IDBCursor.prototype;
webidl.configureInterface(IDBCursor);

class IDBCursorWithValue extends IDBCursor {
  constructor(key = undefined, ...args) {
    checkIllegal(key);
    super(illegal, ...args);
  }
  get value() {
    webidl.assertBranded(this, IDBCursorWithValue.prototype);
    if (this[_value] === NOT_DECODED) {
      this[_value] = restoreValue(this[_valueBytes]);
      this[_valueBytes] = null;
    }
    return this[_value];
  }
}
webidl.configureInterface(IDBCursorWithValue);

function cursorStore(cursor) {
  return cursor[_indexId] === -1 ? cursor[_source] : cursor[_source][_store];
}

function cursorSourceDeleted(cursor) {
  return cursor[_source][_deleted] || cursorStore(cursor)[_deleted];
}

function checkCursor(cursor) {
  const tx = cursorStore(cursor)[_txn];
  checkActive(tx);
  if (cursorSourceDeleted(cursor)) throw new DOMException("The cursor's source was deleted.", "InvalidStateError");
  if (!cursor[_gotValue]) throw new DOMException("The cursor is being iterated or has iterated past its end.", "InvalidStateError");
}

/**
 * Records a cursor asks for beyond the one it needs, for continue() calls to
 * come: a few at first, twice as many each time a walk uses them all, up to
 * a cap (a walk of many records costs few ops, a short one little memory).
 */
const CURSOR_PREFETCH_MIN = 31, CURSOR_PREFETCH_MAX = 1023;

function cursorStep(cursor, target, count) {
  const store = cursorStore(cursor);
  const tx = store[_txn];
  const what = cursor[_keyOnly] ? 3 : 7;
  const fields = cursor[_keyOnly] ? 2 : 3;
  let parts;
  const cache = cursor[_cache];
  if (target === EMPTY && count === 1 && cache !== null && cursor[_cacheWrites] === tx[_writes] &&
      cursor[_cacheAt] < cache.length) {
    parts = cache;
  } else {
    // A walk that used every prefetched record asks for more next time; a
    // jump or a write starts small again.
    const walked = cache !== null && target === EMPTY && count === 1 &&
      cursor[_cacheWrites] === tx[_writes];
    cursor[_prefetch] = walked
      ? MathMin(cursor[_prefetch] * 2 + 1, CURSOR_PREFETCH_MAX)
      : CURSOR_PREFETCH_MIN;
    const range = cursor[_range];
    const out = op_idb_cursor(tx[_id], store[_storeId], cursor[_indexId], range.lower, range.upper, range.flags,
      ArrayPrototypeIndexOf(DIRECTIONS, cursor[_direction]), cursor[_keyBytes] ?? EMPTY,
      cursor[_primaryBytes] ?? EMPTY, target, count, what, cursor[_prefetch]);
    // Each step's buffer is new: the cursor may keep views into it.
    parts = unpack(out);
    cursor[_cache] = parts;
    cursor[_cacheAt] = 0;
    cursor[_cacheWrites] = tx[_writes];
  }
  const at = cursor[_cacheAt];
  if (at >= parts.length) {
    cursor[_cache] = null;
    cursor[_key] = undefined;
    cursor[_primaryKey] = undefined;
    cursor[_value] = undefined;
    cursor[_valueBytes] = null;
    return null;
  }
  cursor[_cacheAt] = at + fields;
  cursor[_keyBytes] = parts[at];
  cursor[_primaryBytes] = parts[at + 1];
  cursor[_key] = NOT_DECODED;
  cursor[_primaryKey] = NOT_DECODED;
  if (cursor[_keyOnly]) {
    cursor[_value] = undefined;
  } else {
    cursor[_value] = NOT_DECODED;
    cursor[_valueBytes] = parts[at + 2];
  }
  cursor[_gotValue] = true;
  return cursor;
}

function iterate(cursor, target, count) {
  cursor[_gotValue] = false;
  const request = cursor[_request];
  const tx = cursorStore(cursor)[_txn];
  // A cursor has at most one iteration queued (the next waits for its
  // success), so one queue entry serves all of them.
  cursor[_target] = target;
  cursor[_count] = count;
  cursor[_entry] ??= {
    request,
    run: () => cursorStep(cursor, cursor[_target], cursor[_count]),
    internal: false,
  };
  request[_done] = false;
  ArrayPrototypePush(tx[_queue], cursor[_entry]);
}

function openCursor(source, indexId, query, direction, keyOnly) {
  direction = String(direction);
  if (!ArrayPrototypeIncludes(DIRECTIONS, direction)) {
    throw new TypeError(`The provided value '${direction}' is not a valid enum value of type IDBCursorDirection.`);
  }
  const store = indexId === -1 ? source : source[_store];
  const tx = readableStore(store);
  const range = toRange(query);
  const cursor = keyOnly
    ? new IDBCursor(illegal, source, indexId, range, direction, true)
    : new IDBCursorWithValue(illegal, source, indexId, range, direction, false);
  const request = queueRequest(tx, source, () => cursorStep(cursor, EMPTY, 1));
  cursor[_request] = request;
  return request;
}

// ---------------------------------------------------------------------------
// IDBFactory.

function later(fn) {
  nextTask().then(fn);
}

class IDBFactory {
  constructor(key = undefined) {
    checkIllegal(key);
    this[brand] = brand;
  }
  open(name, version = undefined) {
    webidl.assertBranded(this, IDBFactoryPrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'open' on 'IDBFactory'");
    name = String(name);
    if (version !== undefined) {
      version = webidl.converters["unsigned long long"](version, "open", "version", { enforceRange: true });
      if (version === 0) throw new TypeError("Failed to execute 'open' on 'IDBFactory': The version provided must not be 0.");
    }
    const request = new IDBOpenDBRequest(illegal);
    openDatabase(request, name, version);
    return request;
  }
  deleteDatabase(name) {
    webidl.assertBranded(this, IDBFactoryPrototype);
    webidl.requiredArguments(arguments.length, 1, "Failed to execute 'deleteDatabase' on 'IDBFactory'");
    name = String(name);
    const request = new IDBOpenDBRequest(illegal);
    deleteDatabase(request, name);
    return request;
  }
  databases() {
    webidl.assertBranded(this, IDBFactoryPrototype);
    return op_idb_databases().then((list) => list.map(([name, version]) => ({ name, version })));
  }
  cmp(first, second) {
    webidl.assertBranded(this, IDBFactoryPrototype);
    webidl.requiredArguments(arguments.length, 2, "Failed to execute 'cmp' on 'IDBFactory'");
    return compareBytes(keyOrThrow(first), keyOrThrow(second));
  }
}
const IDBFactoryPrototype = IDBFactory.prototype;
webidl.configureInterface(IDBFactory);

function failRequest(request, error) {
  request[_done] = true;
  request[_result] = undefined;
  request[_error] = ObjectPrototypeIsPrototypeOf(DOMException.prototype, error)
    ? error
    : new DOMException(String(error?.message ?? error), "UnknownError");
  fire(request, simpleEvent("error", true, true));
}

async function openDatabase(request, name, version) {
  let opened;
  try {
    opened = await op_idb_open(name, version ?? -1);
  } catch (error) {
    failRequest(request, error);
    return;
  }
  if (!opened.upgrade) {
    const db = new IDBDatabase(illegal, opened.conn, name, opened.meta);
    listenForVersionChange(db);
    request[_done] = true;
    request[_result] = db;
    fire(request, simpleEvent("success"));
    return;
  }
  const newVersion = version ?? 1;
  if (opened.blocked) {
    fire(request, new IDBVersionChangeEvent("blocked", { oldVersion: opened.oldVersion, newVersion }));
  }
  let upgrade;
  try {
    upgrade = await op_idb_upgrade(opened.conn);
  } catch (error) {
    op_idb_close(opened.conn);
    failRequest(request, error);
    return;
  }
  const db = new IDBDatabase(illegal, opened.conn, name, upgrade.meta);
  db[_version] = newVersion;
  listenForVersionChange(db);
  const names = upgrade.meta.stores.map((s) => s.name);
  const tx = new IDBTransaction(illegal, db, upgrade.txn, "versionchange", names, "default");
  tx[_oldVersion] = opened.oldVersion;
  tx[_openRequest] = request;
  db[_upgrade] = tx;
  const finished = new Promise((resolve) => { tx[_finished] = resolve; });
  request[_done] = true;
  request[_result] = db;
  request[_transaction] = tx;
  fireTracked(request, new IDBVersionChangeEvent("upgradeneeded", { oldVersion: opened.oldVersion, newVersion }));
  // "Upgrade a database": a listener that threw aborts the upgrade.
  if (lastFireThrew && tx[_state] !== "finished") abortTransaction(tx, listenerThrew());
  // The transaction stays active through the microtasks after the event
  // (an async upgrade callback); its first task makes it inactive.
  runTransaction(tx);
  const committed = await finished;
  request[_transaction] = null;
  if (committed && !db[_closePending]) {
    fire(request, simpleEvent("success"));
  } else {
    if (!db[_closePending]) closeConnection(db);
    else op_idb_close(db[_conn]);
    request[_result] = undefined;
    request[_error] = new DOMException("The upgrade transaction was aborted.", "AbortError");
    fire(request, simpleEvent("error", true, true));
  }
}

async function deleteDatabase(request, name) {
  let oldVersion;
  try {
    const [pending, blocked] = await op_idb_delete_database(name);
    if (blocked) {
      const version = (await op_idb_databases()).find(([n]) => n === name)?.[1] ?? 0;
      fire(request, new IDBVersionChangeEvent("blocked", { oldVersion: version, newVersion: null }));
    }
    oldVersion = await op_idb_delete_database_finish(pending);
  } catch (error) {
    failRequest(request, error);
    return;
  }
  request[_done] = true;
  request[_result] = undefined;
  fire(request, new IDBVersionChangeEvent("success", { oldVersion, newVersion: null }));
}

// ---------------------------------------------------------------------------
// StorageManager.

class StorageManager {
  constructor(key = undefined) {
    checkIllegal(key);
    this[brand] = brand;
  }
  estimate() {
    webidl.assertBranded(this, StorageManager.prototype);
    return op_idb_estimate().then(([usage, quota]) => ({ usage, quota }));
  }
  // swrt never evicts an origin's data on its own: storage is persistent.
  persist() {
    webidl.assertBranded(this, StorageManager.prototype);
    return PromiseResolve(true);
  }
  persisted() {
    webidl.assertBranded(this, StorageManager.prototype);
    return PromiseResolve(true);
  }
}
webidl.configureInterface(StorageManager);

const indexedDB = new IDBFactory(illegal);
const storage = new StorageManager(illegal);

const interfaces = {
  IDBFactory,
  IDBOpenDBRequest,
  IDBRequest,
  IDBDatabase,
  IDBTransaction,
  IDBObjectStore,
  IDBIndex,
  IDBCursor,
  IDBCursorWithValue,
  IDBKeyRange,
  IDBVersionChangeEvent,
  DOMStringList,
  StorageManager,
};

void MathFloor; void later; void SymbolToStringTag; void ObjectFreeze; void ArrayBufferPrototypeGetByteLength;

return { indexedDB, storage, interfaces };
})();

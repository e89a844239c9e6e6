// `crypto.getRandomValues()` and `crypto.randomUUID()` (WebCrypto's Crypto
// interface; `subtle` is not provided).
(function () {
const { core, primordials } = __bootstrap;
const { domException, nonEnumerable, webidl } = core.loadExtScript("ext:swrt/01_web_platform.js");

const { op_swrt_random_values, op_swrt_random_uuid } = core.ops;
const {
  ArrayBufferIsView,
  ObjectPrototypeIsPrototypeOf,
  TypedArrayPrototypeGetByteLength,
  TypedArrayPrototypeGetSymbolToStringTag,
  TypeError,
  Uint8Array,
  TypedArrayPrototypeGetBuffer,
  TypedArrayPrototypeGetByteOffset,
} = primordials;
const { DOMException } = domException;

const INTEGER_ARRAYS = [
  "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
  "Int32Array", "Uint32Array", "BigInt64Array", "BigUint64Array",
];

class Crypto {
  constructor() {
    webidl.illegalConstructor();
  }

  getRandomValues(typedArray) {
    webidl.assertBranded(this, CryptoPrototype);
    const prefix = "Failed to execute 'getRandomValues' on 'Crypto'";
    webidl.requiredArguments(arguments.length, 1, prefix);
    if (!ArrayBufferIsView(typedArray)) {
      throw new TypeError(`${prefix}: parameter 1 is not of type 'ArrayBufferView'`);
    }
    const tag = TypedArrayPrototypeGetSymbolToStringTag(typedArray);
    if (!INTEGER_ARRAYS.includes(tag)) {
      throw new DOMException(
        `${prefix}: The provided ArrayBufferView is of type '${tag ?? "DataView"}', which is not an integer array type.`,
        "TypeMismatchError",
      );
    }
    const length = TypedArrayPrototypeGetByteLength(typedArray);
    if (length > 65536) {
      // WebCrypto getRandomValues step 2: a QuotaExceededError whose quota
      // is 65536 and whose requested is the view's byte length.
      throw new domException.QuotaExceededError(
        `${prefix}: The ArrayBufferView's byte length (${length}) exceeds the number of bytes of entropy available via this API (65536).`,
        { quota: 65536, requested: length },
      );
    }
    const bytes = new Uint8Array(
      TypedArrayPrototypeGetBuffer(typedArray),
      TypedArrayPrototypeGetByteOffset(typedArray),
      length,
    );
    op_swrt_random_values(bytes);
    return typedArray;
  }

  randomUUID() {
    webidl.assertBranded(this, CryptoPrototype);
    return op_swrt_random_uuid();
  }
}
webidl.configureInterface(Crypto);
const CryptoPrototype = Crypto.prototype;
void ObjectPrototypeIsPrototypeOf;

const crypto = webidl.createBranded(Crypto);

function cryptoDescriptors() {
  return {
    Crypto: nonEnumerable(Crypto),
    crypto: { get: () => crypto, enumerable: true, configurable: true },
  };
}

return {
  crypto,
  cryptoDescriptors,
};
})();

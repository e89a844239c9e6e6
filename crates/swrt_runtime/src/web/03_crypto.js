// WebCrypto (`crypto.getRandomValues()`, `randomUUID()`, `crypto.subtle`
// and `CryptoKey`) is deno_crypto's: its classes are Rust objects with the
// Web IDL shape. This file names what each global scope installs, and gives
// getRandomValues' QuotaExceededError its `quota` and `requested`.
(function () {
const { core, primordials } = __bootstrap;
const { domException, nonEnumerable } = core.loadExtScript("ext:swrt/01_web_platform.js");
const webCrypto = core.loadExtScript("ext:deno_crypto/00_crypto.js");
const {
  ArrayBufferIsView,
  ArrayPrototypeIncludes,
  FunctionPrototypeCall,
  ObjectDefineProperty,
  TypedArrayPrototypeGetByteLength,
  TypedArrayPrototypeGetSymbolToStringTag,
} = primordials;

const MAX_ENTROPY = 65536;
const INTEGER_ARRAYS = [
  "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
  "Int32Array", "Uint32Array", "BigInt64Array", "BigUint64Array",
];

// WebCrypto getRandomValues: after the type check (deno_crypto's), a view
// longer than 65536 bytes throws a QuotaExceededError whose quota is 65536
// and whose requested is the view's byte length; deno_crypto leaves both
// null.
const cryptoPrototype = webCrypto.Crypto.prototype;
const getRandomValues = cryptoPrototype.getRandomValues;
ObjectDefineProperty(cryptoPrototype, "getRandomValues", {
  __proto__: null,
  value: {
    getRandomValues(array) {
      if (
        ArrayBufferIsView(array) &&
        ArrayPrototypeIncludes(INTEGER_ARRAYS, TypedArrayPrototypeGetSymbolToStringTag(array))
      ) {
        const requested = TypedArrayPrototypeGetByteLength(array);
        if (requested > MAX_ENTROPY) {
          throw new domException.QuotaExceededError(
            `Failed to execute 'getRandomValues' on 'Crypto': The ArrayBufferView's byte length (${requested}) exceeds the number of bytes of entropy available via this API (${MAX_ENTROPY}).`,
            { quota: MAX_ENTROPY, requested },
          );
        }
      }
      return FunctionPrototypeCall(getRandomValues, this, ...arguments);
    },
  }.getRandomValues,
  writable: true,
  enumerable: true,
  configurable: true,
});

function cryptoDescriptors() {
  return {
    Crypto: nonEnumerable(webCrypto.Crypto),
    CryptoKey: nonEnumerable(webCrypto.CryptoKey),
    SubtleCrypto: nonEnumerable(webCrypto.SubtleCrypto),
    crypto: { get: () => webCrypto.crypto, enumerable: true, configurable: true },
  };
}

return {
  get crypto() {
    return webCrypto.crypto;
  },
  cryptoDescriptors,
};
})();

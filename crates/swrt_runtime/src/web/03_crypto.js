// WebCrypto (`crypto.getRandomValues()`, `randomUUID()`, `crypto.subtle`
// and `CryptoKey`) is deno_crypto's: its classes are Rust objects with the
// Web IDL shape. This file only names what each global scope installs.
(function () {
const { core } = __bootstrap;
const { nonEnumerable } = core.loadExtScript("ext:swrt/01_web_platform.js");
const webCrypto = core.loadExtScript("ext:deno_crypto/00_crypto.js");

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

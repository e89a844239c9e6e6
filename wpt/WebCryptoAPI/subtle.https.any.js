// META: global=window,serviceworker,dedicatedworker,sharedworker
// META: title=WebCrypto: crypto.subtle, CryptoKey and getRandomValues in every global
"use strict";

const encoder = new TextEncoder();
const hex = (buffer) =>
  [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");

// FIPS 180-4 test vectors for the message "abc".
const ABC_DIGESTS = {
  "SHA-1": "a9993e364706816aba3e25717850c26c9cd0d89d",
  "SHA-256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  "SHA-384":
    "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
  "SHA-512":
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
};

for (const [name, expected] of Object.entries(ABC_DIGESTS)) {
  promise_test(async () => {
    assert_equals(hex(await crypto.subtle.digest(name, encoder.encode("abc"))), expected);
    assert_equals(
      hex(await crypto.subtle.digest({ name: name.toLowerCase() }, encoder.encode("abc"))),
      expected,
      "algorithm names are case-insensitive",
    );
  }, `digest ${name} of "abc"`);
}

promise_test(async (t) => {
  await promise_rejects_dom(t, "NotSupportedError", crypto.subtle.digest("MD5", new Uint8Array(1)));
}, "digest with an unknown algorithm rejects with NotSupportedError");

promise_test(async () => {
  const key = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["sign", "verify"]);
  assert_true(key instanceof CryptoKey);
  assert_equals(key.type, "secret");
  assert_equals(key.algorithm.name, "HMAC");
  const data = encoder.encode("payload");
  const signature = await crypto.subtle.sign("HMAC", key, data);
  assert_equals(signature.byteLength, 32);
  assert_true(await crypto.subtle.verify("HMAC", key, signature, data));
  assert_false(await crypto.subtle.verify("HMAC", key, signature, encoder.encode("other")));
}, "HMAC SHA-256: generateKey, sign and verify");

promise_test(async () => {
  // RFC 4231, test case 2.
  const key = await crypto.subtle.importKey(
    "raw", encoder.encode("Jefe"), { name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode("what do ya want for nothing?"));
  assert_equals(hex(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  assert_equals(hex(await crypto.subtle.exportKey("raw", key)), hex(encoder.encode("Jefe")));
}, "HMAC: an imported raw key signs the RFC 4231 vector and exports the same bytes");

promise_test(async (t) => {
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, encoder.encode("hello"));
  assert_equals(ciphertext.byteLength, 5 + 16, "the ciphertext carries a 128-bit tag");
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv }, key, ciphertext);
  assert_equals(new TextDecoder().decode(plain), "hello");
  const tampered = new Uint8Array(ciphertext);
  tampered[0] ^= 1;
  await promise_rejects_dom(t, "OperationError", crypto.subtle.decrypt({ name: "AES-GCM", iv }, key, tampered));
  await promise_rejects_dom(t, "InvalidAccessError", crypto.subtle.exportKey("raw", key),
    "a key made with extractable false cannot be exported");
}, "AES-GCM: encrypt, decrypt, a tampered ciphertext and a non-extractable key");

promise_test(async () => {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  assert_equals(pair.publicKey.type, "public");
  assert_equals(pair.privateKey.type, "private");
  const data = encoder.encode("signed");
  const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, data);
  assert_true(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pair.publicKey, signature, data));
  const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
  assert_equals(jwk.kty, "EC");
  assert_equals(jwk.crv, "P-256");
}, "ECDSA P-256: generateKey, sign, verify and export as JWK");

promise_test(async () => {
  const base = await crypto.subtle.importKey("raw", encoder.encode("password"), "PBKDF2", false, ["deriveBits"]);
  // RFC 6070 style vector, with SHA-256 (1 iteration, salt "salt").
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: encoder.encode("salt"), iterations: 1 }, base, 256);
  assert_equals(hex(bits), "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b");
}, "PBKDF2 SHA-256 deriveBits");

test(() => {
  assert_true(crypto.subtle instanceof SubtleCrypto);
  assert_equals(crypto.subtle, crypto.subtle, "[SameObject]");
  assert_throws_js(TypeError, () => new SubtleCrypto());
  assert_throws_js(TypeError, () => new CryptoKey());
  assert_throws_js(TypeError, () => new Crypto());
  assert_equals(Object.prototype.toString.call(crypto), "[object Crypto]");
}, "the interfaces cannot be constructed and crypto.subtle is one object");

test(() => {
  assert_throws_dom("TypeMismatchError", () => crypto.getRandomValues(new Float32Array(4)));
  assert_throws_quotaexceedederror(() => crypto.getRandomValues(new Uint8Array(65537)), 65537, 65536);
  assert_equals(crypto.getRandomValues.length, 1);
  const values = crypto.getRandomValues(new Uint32Array(8));
  assert_true(values.some((v) => v !== 0));
  assert_regexp_match(crypto.randomUUID(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
}, "getRandomValues checks its argument and randomUUID gives version 4 UUIDs");

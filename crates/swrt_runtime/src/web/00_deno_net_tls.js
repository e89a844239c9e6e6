// Stand-in for `ext:deno_net/02_tls.js`, which only deno_runtime provides.
// deno_fetch's 22_http_client.js loads it for `Deno.createHttpClient()` TLS
// options; service workers have no such API, so the one export it needs
// fails loudly instead of silently ignoring client certificates.
(function () {
  function loadTlsKeyPair() {
    throw new TypeError("Custom TLS client certificates are not supported in swrt");
  }
  return { loadTlsKeyPair };
})();

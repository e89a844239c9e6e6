// Content Security Policy: the directive lists the runtime enforces. A
// realm's policy list comes from the response that delivered its document
// or script (and, in a document, from `<meta http-equiv>` elements).
(function () {
/**
 * The `connect-src` source list (or `default-src`, its fallback) of a
 * policy list, or null when no policy restricts connections. Every policy
 * must allow a request; the last one that restricts connect-src is kept
 * (the runtime checks one source list per request).
 */
function connectSrcOf(policies) {
  let result = null;
  for (const policy of policies) {
    const directives = new Map();
    for (const part of policy.split(";")) {
      const [name, ...values] = part.trim().split(/\s+/);
      // CSP, "parse a serialized CSP": a repeated directive is ignored.
      if (name && !directives.has(name.toLowerCase())) directives.set(name.toLowerCase(), values);
    }
    const list = directives.get("connect-src") ?? directives.get("default-src");
    if (list !== undefined) result = list;
  }
  return result;
}

return { connectSrcOf };
})();

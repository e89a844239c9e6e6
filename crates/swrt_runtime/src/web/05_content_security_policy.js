// Content Security Policy: the directive lists the runtime enforces. A
// realm's policy list comes from the response that delivered its document
// or script (and, in a document, from `<meta http-equiv>` elements).
(function () {
const { primordials } = __bootstrap;
const { ArrayPrototypePush, MapPrototypeGet, MapPrototypeHas, MapPrototypeSet, SafeMap, StringPrototypeSplit, StringPrototypeToLowerCase, StringPrototypeTrim } = primordials;
/**
 * The `connect-src` source lists (or `default-src`, its fallback) of a
 * policy list: one per policy that restricts connections, empty when none
 * does. A request must be allowed by every one.
 */
function connectSrcOf(policies) {
  const result = [];
  for (const policy of policies) {
    const directives = new SafeMap();
    for (const part of StringPrototypeSplit(policy, ";")) {
      const [name, ...values] = StringPrototypeSplit(StringPrototypeTrim(part), /\s+/);
      const key = StringPrototypeToLowerCase(name);
      // CSP, "parse a serialized CSP": a repeated directive is ignored.
      if (key && !MapPrototypeHas(directives, key)) MapPrototypeSet(directives, key, values);
    }
    const list = MapPrototypeGet(directives, "connect-src") ?? MapPrototypeGet(directives, "default-src");
    if (list !== undefined) ArrayPrototypePush(result, list);
  }
  return result;
}

return { connectSrcOf };
})();

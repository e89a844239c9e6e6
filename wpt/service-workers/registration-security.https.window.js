// META: title=Register rejects what the Service Workers spec refuses, with the error class it names
// META: script=resources/host-info.sub.js

// Each rejected registration must also be gone: getRegistration() of its
// scope finds nothing.

const worker = "resources/empty-worker.js";

async function rejectsAndKeepsNothing(t, kind, script, options, scope) {
  const register = navigator.serviceWorker.register(script, options);
  if (kind === "SecurityError") {
    await promise_rejects_dom(t, "SecurityError", register);
  } else {
    await promise_rejects_js(t, TypeError, register);
  }
  if (scope !== undefined) {
    assert_equals(await navigator.serviceWorker.getRegistration(scope), undefined, "the registration is not kept");
  }
}

promise_test((t) => rejectsAndKeepsNothing(t, "SecurityError",
  `${swrtHostInfo.HTTPS_REMOTE_ORIGIN}/service-workers/${worker}`, { scope: "resources/security/remote-script/" }),
  "a script of another origin is a SecurityError");

promise_test((t) => rejectsAndKeepsNothing(t, "SecurityError",
  worker, { scope: `${swrtHostInfo.HTTPS_REMOTE_ORIGIN}/service-workers/resources/` }),
  "a scope of another origin is a SecurityError");

promise_test((t) => rejectsAndKeepsNothing(t, "SecurityError",
  worker, { scope: "security/above-the-script/" }, "security/above-the-script/"),
  "a scope outside the script's directory is a SecurityError");

promise_test(async (t) => {
  const scope = "security/allowed-above/";
  const script = `${worker}?pipe=header(Service-Worker-Allowed,/service-workers/)`;
  const registration = await navigator.serviceWorker.register(script, { scope });
  t.add_cleanup(() => registration.unregister());
  assert_equals(registration.scope, new URL(scope, location.href).href);
}, "Service-Worker-Allowed widens the max scope");

for (const type of ["text/plain", "text/html", "application/json"]) {
  promise_test((t) => rejectsAndKeepsNothing(t, "SecurityError",
    `${worker}?pipe=header(Content-Type,${type})`, { scope: `resources/security/mime-${type.replace("/", "-")}/` },
    `resources/security/mime-${type.replace("/", "-")}/`),
  `a script served as ${type} is a SecurityError`);
}

for (const [name, script, scope] of [
  ["an escaped slash in the script's path", "resources%2fempty-worker.js", undefined],
  ["an escaped backslash in the script's path", "resources%5Cempty-worker.js", undefined],
  ["an escaped slash in the scope's path", worker, "resources/a%2Fb/"],
  ["an escaped backslash in the scope's path", worker, "resources/a%5cb/"],
]) {
  promise_test((t) => rejectsAndKeepsNothing(t, "TypeError", script, scope === undefined ? {} : { scope }),
    `${name} is a TypeError`);
}

promise_test((t) => rejectsAndKeepsNothing(t, "TypeError",
  "resources/missing-worker.js", { scope: "resources/security/missing/" }, "resources/security/missing/"),
  "a script that is not found is a TypeError");

promise_test((t) => rejectsAndKeepsNothing(t, "TypeError",
  `${worker}?pipe=status(302)|header(Location,empty-worker.js)`,
  { scope: "resources/security/redirect/" }, "resources/security/redirect/"),
  "a script response that redirects is a TypeError");

promise_test((t) => rejectsAndKeepsNothing(t, "TypeError",
  "resources/throwing-worker.js", { scope: "resources/security/throws/" }, "resources/security/throws/"),
  "a script that throws while it is evaluated is a TypeError");

promise_test((t) => rejectsAndKeepsNothing(t, "TypeError",
  "resources/syntax-error-worker.js", { scope: "resources/security/syntax/" }, "resources/security/syntax/"),
  "a script that does not parse is a TypeError");

// META: global=serviceworker
// META: title=Clients is usable while the worker's script is evaluated

// Asked during top-level evaluation, before the worker is the registration's
// installing worker; the script keeps running for a while after asking, so
// the answer is prepared while the evaluation is still going on.
const duringEvaluation = self.clients.matchAll({ includeUncontrolled: true, type: "window" });
const until = Date.now() + 200;
while (Date.now() < until) {
  // Busy: the evaluation is not over yet.
}

promise_test(async () => {
  const all = await duringEvaluation;
  assert_greater_than(all.length, 0, "the page that registered the worker is a client");
  assert_equals(all[0].type, "window");
  assert_equals(new URL(all[0].url).origin, self.location.origin);
}, "matchAll() asked during the script's evaluation sees the registering page");

// META: script=resources/test-helpers.js
// META: title=Static routing: InstallEvent.addRoutes() and the router in Handle Fetch

async function routedFrame(t) {
  const scope = "resources/router/";
  const registration = await service_worker_unregister_and_register(t, "resources/static-router-worker.js", scope);
  t.add_cleanup(() => caches.delete("router-test"));
  await wait_for_state(t, registration.installing, "activated");
  const frame = await with_iframe(scope + "frame.html");
  t.add_cleanup(() => frame.remove());
  assert_equals(frame.contentDocument.title, "routed frame", "the navigation went to the fetch event");
  return { frame, worker: registration.active };
}

promise_test(async (t) => {
  const { frame } = await routedFrame(t);
  const text = async (query) => (await frame.contentWindow.fetch("data.txt?route=" + query)).text();
  assert_equals(await text("network"), "from the network\n", "source network: the worker is skipped");
  assert_equals(await text("cache"), "from the cache", "source {cacheName}: the cached response");
  assert_equals(await text("empty-cache"), "from the network\n", "nothing cached: the network");
  assert_equals(await text("race"), "from the network\n",
                "race-network-and-fetch-handler: the network answers when the handler fails");
  assert_equals(await text("other"), "from the fetch event", "no rule matched: the fetch event");
  // A later rule (_or with requestMethod "put") would send it to the fetch
  // event: the earlier network rule wins, and the static server refuses PUT.
  const put = await frame.contentWindow.fetch("data.txt?route=network", { method: "PUT" });
  assert_equals(put.status, 405, "the first matching rule decides");
}, "requests of a controlled client follow the first rule whose condition matches");

promise_test(async (t) => {
  const { worker } = await routedFrame(t);
  const seen = await post_and_wait(worker, "report");
  assert_array_equals(seen.refusals, ["TypeError", "TypeError", "TypeError", "TypeError", "TypeError", "TypeError"],
                      "an empty condition, regexp groups, an unknown source, _or/not mixed with others, a bad method, no condition");
  assert_equals(seen.outside, "InvalidStateError", "addRoutes() outside the install event");
}, "addRoutes() refuses rules that Verify Router Condition refuses, and calls outside install");

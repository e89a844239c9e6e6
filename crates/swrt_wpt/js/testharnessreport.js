// swrt wpt's testharnessreport.js: sends each subtest's name, status and
// message to the runner (a POST to the runner's endpoint on the test's own
// loopback origin). The runner writes `self.__swrt_wpt` before this script.
(function () {
  "use strict";
  const config = self.__swrt_wpt || {};
  const SUBTEST = ["PASS", "FAIL", "TIMEOUT", "NOTRUN", "PRECONDITION_FAILED"];
  const HARNESS = ["OK", "ERROR", "TIMEOUT", "PRECONDITION_FAILED"];
  let chain = Promise.resolve();
  function send(body) {
    if (!config.report) {
      console.log("[swrt-wpt] " + JSON.stringify(body));
      return;
    }
    // One request after the other, so the completion arrives last.
    chain = chain.then(() =>
      fetch(config.report, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }).then((r) => r.arrayBuffer())
    ).catch((e) => console.error("swrt wpt: cannot report results: " + e));
  }
  function subtest(t) {
    return {
      name: String(t.name),
      status: SUBTEST[t.status] ?? String(t.status),
      message: t.message ?? null,
      stack: t.stack ?? null,
    };
  }
  setup({ output: false, timeout_multiplier: config.timeoutMultiplier || 1 });
  add_result_callback((t) => send({ kind: "result", subtest: subtest(t) }));
  add_completion_callback((tests, status) =>
    send({
      kind: "complete",
      status: HARNESS[status.status] ?? String(status.status),
      message: status.message ?? null,
      stack: status.stack ?? null,
      subtests: tests.map(subtest),
    })
  );
})();

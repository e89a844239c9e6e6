// swrt wpt's testharnessreport.js: sends each subtest's name, status and
// message to the runner. The runner writes `self.__swrt_wpt` before this
// script. Results travel as console lines tagged with the page's token: the
// host hands every console call to the runner, and no page policy (CSP
// connect-src, a service worker's fetch handler) can block or observe that.
(function () {
  "use strict";
  const config = self.__swrt_wpt || {};
  const SUBTEST = ["PASS", "FAIL", "TIMEOUT", "NOTRUN", "PRECONDITION_FAILED"];
  const HARNESS = ["OK", "ERROR", "TIMEOUT", "PRECONDITION_FAILED"];
  // Captured before any test script runs: a test that replaces console.log
  // neither sees nor stops the reports.
  const log = console.log.bind(console);
  const stringify = JSON.stringify;
  const prefix = "[swrt-wpt-report " + String(config.token || "") + "] ";
  function send(body) {
    log("%s", prefix + stringify(body));
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

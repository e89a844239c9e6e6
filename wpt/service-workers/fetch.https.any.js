// META: global=window,worker
// META: title=fetch() in pages and service workers, with the WPT server conventions

promise_test(async () => {
  const response = await fetch("resources/data.txt");
  assert_equals(response.status, 200);
  assert_equals(response.headers.get("content-type"), "text/plain; charset=utf-8");
  assert_equals(await response.text(), "swrt wpt data\n");
}, "fetch a static file of the origin");

promise_test(async () => {
  const response = await fetch("resources/data.txt");
  assert_equals(response.headers.get("x-from-sidecar"), "yes", "a .headers sidecar applies");
}, ".headers sidecar");

promise_test(async () => {
  const response = await fetch("resources/data.txt?pipe=header(X-Pipe,piped)|status(201)");
  assert_equals(response.status, 201);
  assert_equals(response.headers.get("x-pipe"), "piped");
}, "?pipe=header(...)|status(...)");

promise_test(async () => {
  const response = await fetch("resources/missing.txt");
  assert_equals(response.status, 404);
}, "a missing file is a 404");

promise_test(async () => {
  const response = await fetch("resources/hosts.sub.json?x=abc");
  const hosts = await response.json();
  assert_equals(hosts.host, location.hostname, "{{host}} is this page's host");
  assert_equals(hosts.port, location.port, "{{ports[https][0]}} is this page's port");
  assert_not_equals(hosts.www1, hosts.host);
  assert_true(hosts.www1.endsWith("." + hosts.host), "{{domains[www1]}} is a subdomain");
  assert_equals(hosts.query, "abc", "{{GET[x]}}");
}, ".sub. substitution");

promise_test(async () => {
  const hosts = await (await fetch("resources/hosts.sub.json")).json();
  const url = `http://${hosts.www1}:${hosts.port1}/service-workers/resources/data.txt?pipe=header(Access-Control-Allow-Origin,*)`;
  const response = await fetch(url);
  assert_equals(response.status, 200);
  assert_equals(await response.text(), "swrt wpt data\n");
}, "a second origin (another host and port) on loopback");

promise_test(async () => {
  const response = await fetch("resources/echo.py", {
    method: "POST",
    body: "posted body",
    headers: { "x-test": "1" },
  });
  assert_equals(response.status, 200);
  const echo = await response.json();
  assert_equals(echo.method, "POST");
  assert_equals(echo.body, "posted body");
  assert_equals(echo.header, "1");
}, "a Python handler run by wptserve");

promise_test(async (t) => {
  await promise_rejects_js(t, TypeError, fetch("http://unknown-host.invalid:1/"));
}, "fetch of an unknown host fails as a network error");

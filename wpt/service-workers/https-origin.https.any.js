// META: global=window,worker
// META: script=resources/host-info.sub.js
// META: title=https origins: fetch() of https URLs on the run's TLS ports
"use strict";

const info = self.swrtHostInfo;
const DATA = "/service-workers/resources/data.txt";

test(() => {
  assert_equals(location.protocol, "https:", "a .https. test runs on an https origin");
  assert_equals(location.origin, info.HTTPS_ORIGIN);
  assert_true(self.isSecureContext);
  assert_equals(info.LOADED_OVER, "https", "{{location[scheme]}} of a .sub. file fetched over https");
  assert_not_equals(info.HTTPS_ORIGIN, info.HTTP_ORIGIN.replace("http:", "https:"),
                    "the https ports are not the http ports");
}, "the test runs on the https origin");

promise_test(async () => {
  const response = await fetch(info.HTTPS_ORIGIN + DATA);
  assert_equals(response.status, 200);
  assert_equals(response.headers.get("x-from-sidecar"), "yes", "the .headers sidecar applies");
  assert_equals(await response.text(), "swrt wpt data\n");
}, "fetch of an HTTPS_ORIGIN URL");

promise_test(async () => {
  for (const origin of [info.HTTPS_REMOTE_ORIGIN, info.HTTPS_NOTSAMESITE_ORIGIN, info.HTTPS_ORIGIN_PORT2]) {
    const response = await fetch(origin + DATA + "?pipe=header(Access-Control-Allow-Origin,*)");
    assert_equals(response.status, 200, origin);
    assert_equals(await response.text(), "swrt wpt data\n", origin);
  }
}, "fetch of other https origins (www1, the alt host, the second https port)");

promise_test(async () => {
  const response = await fetch(info.HTTPS_ORIGIN + "/service-workers/resources/echo.py", {
    method: "POST",
    body: "over tls",
    headers: { "x-test": "2" },
  });
  assert_equals(response.status, 200);
  const echo = await response.json();
  assert_equals(echo.method, "POST");
  assert_equals(echo.body, "over tls");
  assert_equals(echo.header, "2");
}, "a Python handler (wptserve) behind an https port");

promise_test(async () => {
  const response = await fetch(info.HTTPS_ORIGIN + DATA + "?pipe=header(X-Pipe,tls)|status(202)");
  assert_equals(response.status, 202);
  assert_equals(response.headers.get("x-pipe"), "tls");
}, "?pipe= over https");

promise_test(async () => {
  const response = await fetch(info.HTTP_REMOTE_ORIGIN + DATA + "?pipe=header(Access-Control-Allow-Origin,*)");
  assert_equals(await response.text(), "swrt wpt data\n");
}, "the http ports still answer");

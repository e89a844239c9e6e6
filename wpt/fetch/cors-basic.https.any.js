// META: global=window,worker
// META: script=/service-workers/resources/host-info.sub.js
// META: title=fetch(): the CORS protocol for cross-origin requests
"use strict";

// Fetch "main fetch" and "HTTP fetch": a cross-origin "cors" request needs
// the server's consent (the CORS check, and a preflight for anything not
// CORS-safelisted) and sees only the CORS-safelisted response headers plus
// the exposed ones; a "no-cors" request gets an opaque response.

// A fresh stash key (wptserve's stash wants a UUID), as /common/utils.js's token().
function token() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const PATH = "/fetch/resources/cors.py";
const REMOTE = self.swrtHostInfo.HTTPS_REMOTE_ORIGIN + PATH;
const OTHER = self.swrtHostInfo.HTTPS_NOTSAMESITE_ORIGIN + PATH;

promise_test(async () => {
  const response = await fetch(PATH + "?allow=*");
  assert_equals(response.type, "basic");
  assert_equals(response.headers.get("x-secret"), "secret", "a basic response shows every header");
  assert_equals(response.headers.get("set-cookie"), null, "but never Set-Cookie");
  assert_equals((await response.json()).origin, "-", "a same-origin GET carries no Origin");
}, "a same-origin response is basic");

promise_test(async () => {
  const response = await fetch(REMOTE + "?allow=*");
  assert_equals(response.type, "cors");
  assert_equals(response.status, 200);
  assert_equals(response.url, REMOTE + "?allow=*");
  assert_equals(response.headers.get("content-type"), "application/json");
  assert_equals(response.headers.get("x-secret"), null);
  assert_equals(response.headers.get("x-shown"), null);
  assert_equals(response.headers.get("set-cookie"), null);
  assert_equals((await response.json()).origin, location.origin, "the request names its origin");
}, "a cross-origin response with Access-Control-Allow-Origin: * is cors");

promise_test(async () => {
  const response = await fetch(REMOTE + "?allow=origin&expose=X-Shown");
  assert_equals(response.type, "cors");
  assert_equals(response.headers.get("x-shown"), "shown");
  assert_equals(response.headers.get("x-secret"), null);
}, "Access-Control-Expose-Headers makes a header readable");

promise_test(async (t) => {
  await promise_rejects_js(t, TypeError, fetch(REMOTE));
  await promise_rejects_js(t, TypeError, fetch(REMOTE + "?allow=https://elsewhere.invalid"));
}, "a cross-origin response without a matching Access-Control-Allow-Origin is a network error");

promise_test(async () => {
  const response = await fetch(REMOTE, { mode: "no-cors" });
  assert_equals(response.type, "opaque");
  assert_equals(response.status, 0);
  assert_equals(response.statusText, "");
  assert_equals(response.url, "");
  assert_equals([...response.headers].length, 0);
  assert_equals(response.body, null);
  assert_equals((await response.arrayBuffer()).byteLength, 0);
}, "a no-cors cross-origin response is opaque");

promise_test(async (t) => {
  await promise_rejects_js(t, TypeError, fetch(REMOTE + "?allow=*", { mode: "no-cors", method: "PUT" }));
}, "no-cors allows only CORS-safelisted methods");

promise_test(async (t) => {
  await promise_rejects_js(t, TypeError, fetch(REMOTE + "?allow=*", { mode: "same-origin" }));
}, "same-origin mode refuses a cross-origin URL");

promise_test(async (t) => {
  await promise_rejects_js(t, TypeError, fetch(REMOTE + "?allow=*", { credentials: "include" }));
  await promise_rejects_js(t, TypeError, fetch(REMOTE + "?allow=origin", { credentials: "include" }));
  const response = await fetch(REMOTE + "?allow=origin&credentials=1", { credentials: "include" });
  assert_equals(response.type, "cors");
}, "credentials include needs the exact origin and Access-Control-Allow-Credentials");

promise_test(async () => {
  const key = token();
  const url = `${REMOTE}?allow=origin&token=${key}&methods=PUT&headers=x-custom&max_age=600`;
  const first = await (await fetch(url, { method: "PUT", headers: { "x-custom": "1" } })).json();
  assert_equals(first.method, "PUT");
  assert_equals(first.custom, "1");
  assert_equals(first.preflights, 1, "one preflight went first");
  const second = await (await fetch(url, { method: "PUT", headers: { "x-custom": "2" } })).json();
  assert_equals(second.preflights, 1, "the preflight cache answered the second time");
}, "a PUT with a custom header is preflighted, and the preflight cached for Access-Control-Max-Age");

promise_test(async (t) => {
  const key = token();
  await promise_rejects_js(t, TypeError,
    fetch(`${REMOTE}?allow=origin&token=${key}&headers=x-custom`, { method: "PUT", headers: { "x-custom": "1" } }));
  await promise_rejects_js(t, TypeError,
    fetch(`${REMOTE}?allow=origin&token=${key}&methods=PUT`, { method: "PUT", headers: { "x-custom": "1" } }));
}, "a preflight that does not allow the method or a header is a network error");

promise_test(async () => {
  const key = token();
  const json = await (await fetch(`${REMOTE}?allow=origin&token=${key}&headers=content-type`, {
    method: "POST",
    body: "{}",
    headers: { "content-type": "text/json" },
  })).json();
  assert_equals(json.preflights, 1);
  const plain = await (await fetch(`${REMOTE}?allow=origin&token=${token()}`, { method: "POST", body: "x" })).json();
  assert_equals(plain.preflights, 0, "text/plain is CORS-safelisted");
}, "a Content-Type that is not CORS-safelisted is preflighted");

promise_test(async (t) => {
  const target = `${OTHER}?allow=origin`;
  const response = await fetch(`${REMOTE}?allow=*&redirect=${encodeURIComponent(target)}`);
  assert_equals(response.type, "cors");
  assert_true(response.redirected);
  assert_equals((await response.json()).origin, "null");
  const exact = `${OTHER}?allow=${encodeURIComponent(location.origin)}`;
  await promise_rejects_js(t, TypeError, fetch(`${REMOTE}?allow=*&redirect=${encodeURIComponent(exact)}`));
}, "a redirect to a third origin taints the request's origin to null");

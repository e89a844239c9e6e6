// fetch() from a page to another origin (the aux server) under the CORS
// protocol: response types, readable headers, preflights and rejections.
const aux = "{{AUX}}/cors";
async function attempt(label, url, init) {
  try {
    const r = await fetch(url, init);
    console.log(label, r.type, r.status);
    return r;
  } catch (e) {
    console.log(label, e.name);
    return null;
  }
}

// What the server saw, with the page's origin named as such.
const seen = async (r) => (await r.text()).replace(`origin=${location.origin} `, "origin=<page> ");

const same = await attempt("same-origin", "data.txt");
console.log("same-origin body", (await same.text()).trim());

const star = await attempt("cors *", `${aux}?allow=*`);
console.log("readable", star.headers.get("content-type"), star.headers.get("x-secret"), star.headers.get("x-shown"), star.headers.get("set-cookie"));
console.log(await seen(star));
const exposed = await attempt("cors exposed", `${aux}?allow=*&expose=x-shown`);
console.log("exposed", exposed.headers.get("x-shown"), exposed.headers.get("x-secret"));
await attempt("cors without allow-origin", aux);
await attempt("cors other origin", `${aux}?allow=http://elsewhere.test`);

await attempt("no-cors", aux, { mode: "no-cors" }).then(async (r) => {
  console.log("opaque", JSON.stringify(r.statusText), [...r.headers].length, r.body, JSON.stringify(r.url), (await r.arrayBuffer()).byteLength);
});
await attempt("no-cors PUT", aux, { mode: "no-cors", method: "PUT" });
await attempt("same-origin mode", `${aux}?allow=*`, { mode: "same-origin" });

await attempt("include with *", `${aux}?allow=*`, { credentials: "include" });
await attempt("include without allow-credentials", `${aux}?allow=origin`, { credentials: "include" });
await attempt("include with both", `${aux}?allow=origin&credentials=1`, { credentials: "include" });

// A PUT with a custom header is preflighted once, then served from the
// preflight cache for Access-Control-Max-Age.
const put = `${aux}?allow=origin&token=put&methods=PUT&headers=x-custom&max_age=600`;
const first = await attempt("preflighted PUT", put, { method: "PUT", headers: { "x-custom": "1" } });
console.log(await seen(first));
const second = await attempt("cached PUT", put, { method: "PUT", headers: { "x-custom": "2" } });
console.log(await seen(second));
await attempt("PUT the preflight does not allow", `${aux}?allow=origin&token=refused&headers=x-custom`, { method: "PUT", headers: { "x-custom": "1" } });
await attempt("header the preflight does not allow", `${aux}?allow=origin&token=refused&methods=PUT`, { method: "PUT", headers: { "x-custom": "1" } });
const json = await attempt("text/json POST", `${aux}?allow=origin&token=json&headers=content-type`, { method: "POST", body: "{}", headers: { "content-type": "text/json" } });
console.log(await seen(json));
const plain = await attempt("text/plain POST", `${aux}?allow=origin&token=plain`, { method: "POST", body: "x" });
console.log(await seen(plain));

// Redirected through a second cross origin: the request's origin becomes "null".
const elsewhere = "{{AUX}}".replace("127.0.0.1", "localhost");
const tainted = await attempt("tainted redirect", `{{AUX}}/redirect/302?to=${encodeURIComponent(`${elsewhere}/cors?allow=origin`)}`);
console.log(await seen(tainted));
await attempt("tainted redirect, exact origin required", `{{AUX}}/redirect/302?to=${encodeURIComponent(`${elsewhere}/cors?allow=${location.origin}`)}`);

// The service worker may answer a no-cors request with an opaque response,
// never a cors one.
await navigator.serviceWorker.register("sw.js");
if (!navigator.serviceWorker.controller) {
  await new Promise((r) => navigator.serviceWorker.addEventListener("controllerchange", r));
}
await attempt("worker's opaque answer to no-cors", "/opaque", { mode: "no-cors" });
await attempt("worker's opaque answer to cors", "/opaque");

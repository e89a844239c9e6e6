// get(), getIds() and the call-time rejections of fetch().
const reg = await navigator.serviceWorker.register("sw.js");
await navigator.serviceWorker.ready;
const bg = reg.backgroundFetch;
console.log("empty ids", JSON.stringify(await bg.getIds()));
const a = await bg.fetch("a", "{{AUX}}/bytes/40000000?delay_ms=20");
const b = await bg.fetch("b", ["{{AUX}}/bytes/40000000?delay_ms=20"]);
console.log("ids", JSON.stringify((await bg.getIds()).sort()));
const got = await bg.get("a");
console.log("get", got instanceof BackgroundFetchRegistration, got.id, got === a, got.downloadTotal);
console.log("unknown", await bg.get("nope"));
const reject = async (label, p) => {
  try { await p; console.log(label, "resolved?!"); } catch (e) { console.log(label, e.name); }
};
await reject("duplicate id", bg.fetch("a", "{{AUX}}/bytes/10"));
await reject("empty list", bg.fetch("c", []));
await reject("no-cors", bg.fetch("d", new Request("{{AUX}}/bytes/10", { mode: "no-cors" })));
await reject("bad url", bg.fetch("e", "http://[bad"));
await reject("credentials in url", bg.fetch("f", "http://user:pw@127.0.0.1/"));
await reject("get('')", bg.get(""));
await reject("quota", bg.fetch("g", "{{AUX}}/bytes/10", { downloadTotal: Number.MAX_SAFE_INTEGER }));
await reject("no argument", bg.get());
console.log("abort a", await a.abort(), "abort b", await b.abort());
console.log("ids after abort", JSON.stringify(await bg.getIds()));

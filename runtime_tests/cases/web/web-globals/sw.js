// The web platform a service worker expects is there and behaves.
const checks = {
  self: self === globalThis && self instanceof ServiceWorkerGlobalScope && self instanceof WorkerGlobalScope && self instanceof EventTarget,
  location: location.href === "http://localhost/sw.js" && location.origin === "http://localhost",
  url: new URL("../x?y=1#z", "http://a.test/b/c").href === "http://a.test/x?y=1#z",
  searchParams: new URLSearchParams("a=1&b=2").get("b") === "2",
  textCodec: new TextDecoder().decode(new TextEncoder().encode("h\u00e9")) === "h\u00e9",
  base64: atob(btoa("swrt")) === "swrt",
  structuredClone: structuredClone(new Map([[1, { d: new Date(0) }]])).get(1).d.getTime() === 0,
  domException: new DOMException("m", "AbortError").code === 20,
  blob: new Blob(["ab", "c"]).size === 3 && new File(["x"], "f.txt").name === "f.txt",
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(crypto.randomUUID()),
  randomValues: crypto.getRandomValues(new Uint8Array(16)).length === 16,
  headers: new Headers({ "X-A": "1" }).get("x-a") === "1",
  request: new Request("/r", { method: "POST" }).url === "http://localhost/r",
  navigator: typeof navigator.userAgent === "string",
  noDeno: typeof Deno === "undefined" && typeof __bootstrap === "undefined",
};
for (const [name, ok] of Object.entries(checks)) if (!ok) console.log("FAILED", name);
try {
  crypto.getRandomValues(new Uint8Array(70000));
} catch (err) {
  console.log("quota:", err.name);
}
const order = [];
queueMicrotask(() => order.push("microtask"));
setTimeout(() => order.push("timeout"), 0);
Promise.resolve().then(() => order.push("promise"));
self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    await new Promise((r) => setTimeout(r, 5));
    console.log(order.join(","));
    const stream = new ReadableStream({ start(c) { c.enqueue("a"); c.enqueue("b"); c.close(); } });
    let text = "";
    for await (const chunk of stream) text += chunk;
    console.log("stream", text, await new Response("body").text(), await new Blob(["blob"]).text());
    const controller = new AbortController();
    controller.signal.onabort = () => console.log("aborted", controller.signal.reason.name);
    controller.abort();
    const timed = AbortSignal.timeout(1);
    await new Promise((r) => setTimeout(r, 20));
    console.log("timeout signal", timed.aborted, timed.reason.name);
    const interval = await new Promise((resolve) => {
      let n = 0;
      const id = setInterval(() => { if (++n === 3) { clearInterval(id); resolve(n); } }, 1);
    });
    console.log("interval", interval);
  })());
});
console.log("checks done");

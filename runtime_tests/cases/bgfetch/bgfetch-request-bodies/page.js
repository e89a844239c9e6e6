// Request bodies of every kind are stored byte-exact; record.request is a
// copy with its body (and FormData keeps its multipart boundary).
const reg = await navigator.serviceWorker.register("sw.js");
await navigator.serviceWorker.ready;
const form = new FormData();
form.append("field", "value");
form.append("file", new File(["file contents"], "a.txt", { type: "text/plain" }));
const bodies = {
  string: "plain text body",
  arraybuffer: new Uint8Array([1, 2, 3, 4]).buffer,
  dataview: new DataView(new Uint8Array([9, 8, 7]).buffer),
  blob: new Blob(["blob-", "parts"], { type: "application/x-test" }),
  params: new URLSearchParams({ a: "1", b: "two words" }),
  form,
  // Large bodies cross from JS to the engine as bytes, not number arrays.
  large: new Uint8Array(24 << 20).map((_, i) => (i * 13) & 255),
};
const requests = Object.entries(bodies).map(([kind, body]) =>
  new Request(`{{AUX}}/echo?kind=${kind}`, { method: "POST", body }));
const f = await reg.backgroundFetch.fetch("bodies", requests);
await new Promise((resolve) => f.addEventListener("progress", () => f.result && resolve()));
console.log("page:", f.result, "uploaded", f.uploaded === f.uploadTotal);

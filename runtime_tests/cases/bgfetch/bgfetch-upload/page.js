// Request bodies are uploaded with progress: uploadTotal and uploaded.
const reg = await navigator.serviceWorker.register("sw.js");
await navigator.serviceWorker.ready;
const body = new Uint8Array(300000).map((_, i) => i % 256);
const f = await reg.backgroundFetch.fetch("upload", [
  new Request("{{AUX}}/echo", { method: "POST", body }),
  new Request("{{AUX}}/echo", { method: "PUT", body: "hello" }),
]);
console.log("uploadTotal", f.uploadTotal, "uploaded at start", f.uploaded <= f.uploadTotal);
await new Promise((resolve) => f.addEventListener("progress", () => f.result && resolve()));
console.log("result", f.result, "uploaded", f.uploaded);

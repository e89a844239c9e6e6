// QuotaExceededError on a page, and from backgroundFetch.fetch().
const e = new QuotaExceededError("m");
console.log("page: defaults", e instanceof DOMException, e.name, e.message, e.quota, e.requested);
const reg = await navigator.serviceWorker.register("sw.js");
await navigator.serviceWorker.ready;
try {
  await reg.backgroundFetch.fetch("huge", "{{AUX}}/bytes/10", { downloadTotal: Number.MAX_SAFE_INTEGER });
  console.log("page: fetch resolved");
} catch (err) {
  console.log(
    "page: downloadTotal",
    err instanceof QuotaExceededError,
    err instanceof DOMException,
    err.name,
    err.requested === Number.MAX_SAFE_INTEGER,
    typeof err.quota,
  );
}

// QuotaExceededError in a worker: the interface, and getRandomValues.
self.addEventListener("activate", () => {
  const e = new QuotaExceededError("too big", { quota: 10, requested: 20 });
  console.log("sw: interface", e instanceof DOMException, e.name, e.code, e.quota, e.requested);
  try {
    crypto.getRandomValues(new Uint8Array(65537));
  } catch (err) {
    console.log("sw: getRandomValues", err instanceof QuotaExceededError, err.name, err.quota, err.requested);
  }
});

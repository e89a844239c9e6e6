// A rejected waitUntil promise fails the install: the worker becomes redundant.
self.addEventListener("install", (event) => {
  console.log("installing", serviceWorker.state);
  event.waitUntil(Promise.reject(new Error("cache priming failed")));
});
self.addEventListener("activate", () => console.log("must not activate"));

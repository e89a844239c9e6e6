// Its evaluation waits for a timer: not a valid service worker.
await new Promise((resolve) => setTimeout(resolve, 0));
self.addEventListener("install", () => {});

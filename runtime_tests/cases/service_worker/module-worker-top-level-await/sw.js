// Top-level await is not allowed in a service worker: registration fails.
await new Promise((resolve) => setTimeout(resolve, 10));
self.addEventListener("install", () => console.log("install"));

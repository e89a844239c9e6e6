// ServiceWorker.postMessage() between workers: a new version greets the
// active one while it installs, the active one answers through event.source,
// and a worker can message itself through self.serviceWorker.
const version = new URL(location.href).searchParams.get("v");

self.addEventListener("install", (event) => {
  if (version !== "2") return;
  event.waitUntil(new Promise((resolve) => {
    self.addEventListener("message", (e) => {
      console.log(`v2 got "${e.data}" from ${new URL(e.source.scriptURL).search} (${e.source.state})`);
      resolve();
    }, { once: true });
    self.registration.active.postMessage({ greeting: "hello from v2" });
  }));
});

self.addEventListener("activate", () => {
  if (version === "2") self.serviceWorker.postMessage("to myself");
});

self.addEventListener("message", (e) => {
  if (version === "1") {
    console.log(
      `v1 got "${e.data.greeting}" from ${new URL(e.source.scriptURL).search} (${e.source.state}),`,
      `ServiceWorker ${e.source instanceof ServiceWorker}, same origin ${e.origin === location.origin}`,
    );
    e.source.postMessage("welcome");
  } else if (e.data === "to myself") {
    console.log(`v2 got "${e.data}", source is self.serviceWorker ${e.source === self.serviceWorker}`);
  }
});

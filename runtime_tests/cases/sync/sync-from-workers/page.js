// A page's dedicated worker and shared worker each have their own
// navigator.serviceWorker and register a Background Sync tag through it;
// the page reads both back. Offline, so the syncs wait for the next run.
await navigator.serviceWorker.register("sw.js");
const registration = await navigator.serviceWorker.ready;

const worker = new Worker("client.js", { name: "dedicated" });
await new Promise((resolve) => {
  worker.onmessage = (e) => {
    if (e.data === "done") resolve();
    else console.log(`dedicated: ${e.data}`);
  };
});

const shared = new SharedWorker("client.js", "shared");
await new Promise((resolve) => {
  shared.port.onmessage = (e) => {
    if (e.data === "done") resolve();
    else console.log(`shared: ${e.data}`);
  };
});
shared.port.close();

console.log("page: tags", JSON.stringify((await registration.sync.getTags()).sort()));

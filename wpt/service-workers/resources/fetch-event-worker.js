// Records what FetchEvent.handled and replacesClientId say for requests of
// its clients; a message with a port gets the record.
const log = [];
function record(event, name) {
  event.handled.then(() => log.push(`${name}: handled resolved`), (e) => log.push(`${name}: handled ${e.name}`));
}
self.addEventListener("fetch", (event) => {
  const name = new URL(event.request.url).pathname.split("/").pop();
  if (name === "respond") {
    record(event, name);
    event.respondWith(new Response("answered"));
  } else if (name === "network") {
    record(event, name);
  } else if (name === "reject") {
    record(event, name);
    event.respondWith(Promise.reject(new Error("no answer")));
  } else if (name === "cancel") {
    record(event, name);
    event.preventDefault();
  } else {
    return;
  }
  log.push(`${name}: replacesClientId ${JSON.stringify(event.replacesClientId)}`);
});
self.addEventListener("message", (event) => {
  const constructed = new FetchEvent("fetch", { request: new Request("https://example.test/"), replacesClientId: "r" });
  const fresh = new FetchEvent("fetch", { request: new Request("https://example.test/") });
  event.ports[0].postMessage({
    log,
    constructed: [constructed.replacesClientId, fresh.replacesClientId, fresh.resultingClientId],
  });
});

// Reports what the message event it gets looks like. "from-self" makes the
// worker post the message to itself first, so the report is about that one.
let replyPort = null;
self.addEventListener("message", (e) => {
  if (e.data === "from-self") {
    replyPort = e.ports[0];
    self.serviceWorker.postMessage("observe");
    return;
  }
  const seen = {
    interface: Object.prototype.toString.call(e),
    trusted: e.isTrusted,
    data: e.data,
    origin: e.origin,
    lastEventId: e.lastEventId,
    source: e.source && e.source.constructor.name,
    sourceUrl: e.source && e.source.url,
    sourceIsSelf: e.source === self.serviceWorker,
    frameType: e.source && e.source.frameType,
    ports: e.ports.length,
    portsFrozen: Object.isFrozen(e.ports),
    portsSameObject: e.ports === e.ports,
  };
  const port = e.ports[0] || replyPort;
  try {
    e.waitUntil(new Promise((resolve) => setTimeout(resolve, 0)).then(() => {
      try {
        e.waitUntil(Promise.resolve());
        seen.waitUntilLater = "ok";
      } catch (error) {
        seen.waitUntilLater = error.name;
      }
      port.postMessage(seen);
    }));
    seen.waitUntil = "ok";
  } catch (error) {
    seen.waitUntil = error.name;
    port.postMessage(seen);
  }
});

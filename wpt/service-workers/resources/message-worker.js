// Answers messages: through a transferred port when there is one, else
// through event.source (a Client).
self.addEventListener("message", (e) => {
  const reply = {
    echo: e.data,
    isExtendable: e instanceof ExtendableMessageEvent,
    sourceType: e.source && e.source.type,
    sourceUrl: e.source && e.source.url,
    origin: e.origin,
    ports: e.ports.length,
  };
  if (e.data && e.data.sendPortBack) {
    const channel = new MessageChannel();
    channel.port1.onmessage = (m) => channel.port1.postMessage("port says: " + m.data);
    e.source.postMessage({ kind: "port" }, [channel.port2]);
    return;
  }
  if (e.ports.length > 0) e.ports[0].postMessage(reply);
  else e.source.postMessage(reply);
});

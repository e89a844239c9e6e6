// Answers every message with what it got, over a transferred port when the
// message carries one.
onmessage = (event) => {
  const reply = { echo: event.data, scope: String(self), name: self.name };
  if (event.ports.length > 0) event.ports[0].postMessage(reply);
  else postMessage(reply);
};

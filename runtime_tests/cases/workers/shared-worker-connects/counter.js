let connections = 0;
self.addEventListener("connect", (event) => {
  connections += 1;
  const number = connections;
  const port = event.ports[0];
  port.onmessage = () => port.postMessage(`${self.name}: connection ${number} of ${connections}`);
});

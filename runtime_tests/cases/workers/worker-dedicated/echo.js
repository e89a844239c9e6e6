onmessage = (e) => {
  const [port] = e.ports;
  port.postMessage(`port from ${self.name}`);
  port.close();
  const bytes = new Uint8Array(e.data.buffer);
  postMessage(`${self} ${location.pathname} got bytes ${bytes.join(",")} and map size ${e.data.map.size}`);
};

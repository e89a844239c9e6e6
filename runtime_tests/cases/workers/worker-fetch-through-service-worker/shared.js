onconnect = (event) => {
  const [port] = event.ports;
  port.onmessage = () => port.postMessage(`${self} is up`);
};

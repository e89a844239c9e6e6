// One instance per (script URL, name): it names itself once and numbers
// the connections it gets.
const instance = Math.random().toString(36).slice(2);
let connections = 0;
self.onconnect = (event) => {
  connections += 1;
  const number = connections;
  const port = event.ports[0];
  port.onmessage = () => port.postMessage({ instance, number });
};

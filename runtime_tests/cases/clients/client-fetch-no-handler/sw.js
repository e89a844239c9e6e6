// No fetch listener: a controlled page's requests go straight to the network
// and the worker is not woken for them.
let events = 0;
self.addEventListener("activate", (event) => event.waitUntil(clients.claim()));
self.addEventListener("message", (event) => event.source.postMessage(`worker saw ${events} fetch events`));
self.addEventListener("install", () => { self.onfetchCount = () => events; });

const shared = new SharedWorker("counter.js", "counter");
shared.port.onmessage = (e) => {
  postMessage(e.data);
  shared.port.close();
};
shared.port.postMessage("count");

self.addEventListener("message", () => {
  const channel = new BroadcastChannel("news");
  channel.postMessage("hello from the worker");
  channel.close();
});

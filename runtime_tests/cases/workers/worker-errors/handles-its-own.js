self.onerror = (message) => {
  postMessage(`handled: ${message}`);
  return true;
};
setTimeout(() => {
  throw new Error("caught by onerror");
}, 0);

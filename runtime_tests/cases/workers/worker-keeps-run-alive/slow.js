onmessage = () => {
  setTimeout(() => {
    postMessage("the worker's answer, 300 ms later");
  }, 300);
};

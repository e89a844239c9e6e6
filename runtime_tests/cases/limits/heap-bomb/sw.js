// Reaching the heap limit terminates this worker with a clear report.
self.addEventListener("install", () => {
  const hoard = [];
  for (;;) hoard.push(new Array(100000).fill(hoard.length));
});

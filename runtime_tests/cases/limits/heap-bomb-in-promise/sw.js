// Reaching the heap limit inside a promise job (after an await) terminates
// the worker: its event ends at once and the heap stays bounded.
self.addEventListener("activate", (event) => event.waitUntil((async () => {
  await 0;
  const hoard = [];
  for (;;) hoard.push(new Array(1 << 20).fill(1.5));
})()));

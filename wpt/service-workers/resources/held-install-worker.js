// Its install event lasts until a page posts "finish-install", so a test
// can act while the worker is still installing.
let finish;
const installHeld = new Promise((resolve) => { finish = resolve; });
self.addEventListener("message", (event) => {
  if (event.data === "finish-install") finish();
});
self.addEventListener("install", (event) => event.waitUntil(installHeld));

// Checks ExtendableEvent.waitUntil() rules from inside the worker and
// reports what it saw.
const seen = {};
self.addEventListener("install", (e) => {
  const started = Date.now();
  e.waitUntil(new Promise((resolve) => setTimeout(resolve, 100)).then(() => {
    seen.installWaited = Date.now() - started;
    // Still active: a nested waitUntil from inside a pending promise works.
    try { e.waitUntil(Promise.resolve()); seen.nestedWhileActive = "ok"; }
    catch (err) { seen.nestedWhileActive = err.name; }
  }));
  seen.isExtendable = e instanceof ExtendableEvent;
  setTimeout(() => {
    // Long after dispatch: the event's lifetime has ended... unless waitUntil
    // still holds it; 300 ms is past the 100 ms promise above.
    try { e.waitUntil(Promise.resolve()); seen.afterEnd = "ok"; }
    catch (err) { seen.afterEnd = err.name; }
  }, 300);
});
self.addEventListener("activate", (e) => {
  try { e.waitUntil(5); seen.nonPromise = "ok"; } catch (err) { seen.nonPromise = err.name; }
});
self.addEventListener("message", (e) => {
  const reply = () => e.ports[0].postMessage(seen);
  e.waitUntil(new Promise((resolve) => setTimeout(() => { reply(); resolve(); }, 400)));
});

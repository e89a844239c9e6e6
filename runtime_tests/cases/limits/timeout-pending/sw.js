// --timeout ends a run whose work never finishes and says what was pending.
self.addEventListener("install", (event) => event.waitUntil(new Promise(() => {})));

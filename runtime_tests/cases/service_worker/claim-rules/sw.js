// clients.claim(): only an active worker may claim; an active worker whose
// registration was unregistered still may (it claims nothing).
self.addEventListener("install", (event) => event.waitUntil((async () => {
  try {
    await clients.claim();
  } catch (e) {
    console.log("claim while installing:", e.name);
  }
})()));
self.addEventListener("activate", (event) => event.waitUntil((async () => {
  console.log("unregistered:", await self.registration.unregister());
  await clients.claim();
  console.log("claim after unregister resolved");
})()));

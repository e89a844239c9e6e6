// Claims clients on activate (lives next to the test so its scope covers the page).
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));

importScripts("classic-helper.js");
self.addEventListener("message", (e) => e.ports[0].postMessage(self.HELPER_VERSION));

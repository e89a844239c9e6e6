import { VERSION } from "./module-helper.mjs";
self.addEventListener("message", (e) => e.ports[0].postMessage(VERSION));

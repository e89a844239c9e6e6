// A module service worker: reports what its imports and global allow.
import { answer } from "./module-helper.js";

let importScriptsError = "none";
try {
  importScripts("empty-worker.js");
} catch (e) {
  importScriptsError = e.name;
}
const dynamicImport = import("./module-helper.js").then(
  () => "resolved",
  (e) => e.name,
);

self.addEventListener("message", async (e) => {
  e.ports[0].postMessage({
    answer,
    importScriptsError,
    dynamicImport: await dynamicImport,
    metaUrl: import.meta.url,
  });
});

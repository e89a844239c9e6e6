// A module service worker: static imports load with it; importScripts() and
// import() are not available in module workers.
import { greeting, double } from "./helper.mjs";

console.log(greeting, double(21), import.meta.url);
try {
  importScripts("./helper.mjs");
} catch (e) {
  console.log("importScripts:", e.name);
}
import("./helper.mjs").then(
  () => console.log("import() resolved"),
  (e) => console.log("import():", e.name),
);
self.addEventListener("install", () => console.log("install"));
self.addEventListener("activate", () => console.log("activate"));

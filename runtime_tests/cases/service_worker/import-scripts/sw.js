// importScripts is synchronous, resolves against the script URL, runs in
// order, and is refused for new URLs once installation has finished.
importScripts("lib/a.js", "lib/b.js");
console.log("after import", typeof fromA, fromB);
self.addEventListener("install", () => {
  importScripts("lib/c.js");
  console.log("during install", fromC);
});
self.addEventListener("activate", () => {
  importScripts("lib/a.js");
  console.log("re-import of a known script ok");
  try {
    importScripts("lib/late.js");
  } catch (err) {
    console.log("late import:", err.name);
  }
  try {
    importScripts("lib/missing.js");
  } catch (err) {
    console.log("missing:", err.name);
  }
});

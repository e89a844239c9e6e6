// A page writes to IndexedDB; its service worker (another realm, another
// thread) reads the same database, writes to it and upgrades it while the
// page is connected, which the page sees as a versionchange event.
await import("./idb-module.js");
const open = indexedDB.open("notes-db", 1);
open.onupgradeneeded = () => {
  const store = open.result.createObjectStore("notes", { keyPath: "id", autoIncrement: true });
  store.createIndex("byTag", "tag");
};
const db = await done(open);
db.onversionchange = (e) => {
  console.log("page: versionchange", e.oldVersion, "->", e.newVersion);
  db.close();
};
const tx = db.transaction("notes", "readwrite");
for (const text of ["alpha", "beta", "gamma"]) {
  tx.objectStore("notes").add({
    text,
    tag: text === "beta" ? "b" : "a",
    when: new Date(Date.UTC(2020, 0, 1)),
    attachment: new Blob([`${text} bytes`], { type: "text/plain" }),
  });
}
await completed(tx);
console.log("page: wrote 3 notes");

const reg = await navigator.serviceWorker.register("sw.js");
await navigator.serviceWorker.ready;
const reply = new Promise((resolve) => { navigator.serviceWorker.onmessage = (e) => resolve(e.data); });
reg.active.postMessage("read");
console.log("page: worker says", await reply);
const again = await done(indexedDB.open("notes-db"));
console.log("page: version now", again.version, "stores", Array.from(again.objectStoreNames).join(","));
const notes = await done(again.transaction("notes").objectStore("notes").getAll());
console.log("page: notes", notes.map((n) => n.text).join(","));
again.close();
const { usage } = await navigator.storage.estimate();
console.log("page: usage counted", usage > 0);

importScripts("idb-module.js");
self.addEventListener("message", (event) => {
  event.waitUntil((async () => {
    const db = await done(indexedDB.open("notes-db"));
    const store = db.transaction("notes").objectStore("notes");
    const tagged = await done(store.index("byTag").getAll("a"));
    const first = tagged[0];
    console.log("sw: tag a", tagged.map((n) => n.text).join(","), first.when instanceof Date, first.when.toISOString());
    console.log("sw: attachment", first.attachment.type, await first.attachment.text());
    const tx = db.transaction("notes", "readwrite");
    tx.objectStore("notes").put({ text: "from the worker", tag: "w" });
    await completed(tx);
    db.close();
    // An upgrade while the page is still connected: the page is asked to close.
    const upgrade = indexedDB.open("notes-db", 2);
    upgrade.onupgradeneeded = () => upgrade.result.createObjectStore("settings");
    upgrade.onblocked = () => console.log("sw: blocked");
    const db2 = await done(upgrade);
    console.log("sw: upgraded to", db2.version);
    db2.close();
    event.source.postMessage("done");
  })());
});

// A second run on the same data dir: what the page and the worker committed is there.
await import("./idb-module.js");
const db = await done(indexedDB.open("notes-db"));
const notes = await done(db.transaction("notes").objectStore("notes").getAll());
console.log("after restart: version", db.version, "notes", notes.map((n) => `${n.id}:${n.text}`).join(","));
const keys = await done(db.transaction("notes").objectStore("notes").index("byTag").getAllKeys("a"));
console.log("after restart: index", keys.join(","));
console.log("after restart: attachment", await notes[1].attachment.text());
const tx = db.transaction("notes", "readwrite");
console.log("after restart: next key", await done(tx.objectStore("notes").add({ text: "more", tag: "a" })));
await completed(tx);
console.log("databases", JSON.stringify(await indexedDB.databases()));

// The IndexedDB benchmark's operations, the same code in swrt, Chromium and
// node (fake-indexeddb): 10,000 small puts in one transaction, 10,000 gets
// in one transaction, and a cursor over the 10,000 records. Prints one line
// per measure: `<name> <ms>`, then `done`.
async function idbBenchmark(indexedDB, now, log) {
  const N = 10000;
  const done = (request) => new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const completed = (tx) => new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onabort = () => reject(tx.error);
  });
  const name = "bench-" + Math.random();
  const open = indexedDB.open(name, 1);
  open.onupgradeneeded = () => open.result.createObjectStore("items");
  const db = await done(open);

  let start = now();
  let tx = db.transaction("items", "readwrite");
  let store = tx.objectStore("items");
  for (let i = 0; i < N; i++) store.put({ id: i, title: "item " + i, tags: ["a", "b"] }, i);
  await completed(tx);
  log("puts " + (now() - start).toFixed(1));

  start = now();
  tx = db.transaction("items");
  store = tx.objectStore("items");
  let found = 0;
  for (let i = 0; i < N; i++) store.get(i).onsuccess = (e) => { if (e.target.result) found++; };
  await completed(tx);
  if (found !== N) throw new Error("gets found " + found);
  log("gets " + (now() - start).toFixed(1));

  start = now();
  tx = db.transaction("items");
  let seen = 0;
  const cursor = tx.objectStore("items").openCursor();
  cursor.onsuccess = () => {
    if (cursor.result) {
      seen++;
      cursor.result.continue();
    }
  };
  await completed(tx);
  if (seen !== N) throw new Error("cursor saw " + seen);
  log("cursor " + (now() - start).toFixed(1));
  db.close();
  await done(indexedDB.deleteDatabase(name));
  log("done");
}
if (typeof module !== "undefined") module.exports = { idbBenchmark };

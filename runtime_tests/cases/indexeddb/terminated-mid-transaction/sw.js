// A worker is terminated (it spins past its event time budget) in the
// middle of a readwrite transaction: none of that transaction's writes may
// reach the disk, while the transaction committed before it stays.
const done = (request) => new Promise((resolve, reject) => {
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});
self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const open = indexedDB.open("ledger", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("entries").put("committed", "first");
    const db = await done(open);
    console.log("upgraded");
    const tx = db.transaction("entries", "readwrite");
    const store = tx.objectStore("entries");
    for (let i = 0; i < 100; i++) {
      store.put(`entry ${i}`, i).onsuccess = () => {
        if (i === 50) {
          console.log("spinning at", i);
          for (;;) {}
        }
      };
    }
    await new Promise(() => {});
  })());
});

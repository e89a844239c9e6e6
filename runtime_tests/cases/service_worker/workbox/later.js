// Back online after the replay: no sync tag is left, and Workbox's queue
// in IndexedDB is empty.
const registration = await navigator.serviceWorker.ready;
console.log("later: onLine", navigator.onLine, "sync tags", JSON.stringify(await registration.sync.getTags()));
const db = await new Promise((resolve, reject) => {
  const open = indexedDB.open("workbox-background-sync");
  open.onsuccess = () => resolve(open.result);
  open.onerror = () => reject(open.error);
});
const count = await new Promise((resolve, reject) => {
  const request = db.transaction("requests").objectStore("requests").count();
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});
console.log("later: queued requests", count);
db.close();

const done = (request) => new Promise((resolve, reject) => {
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});
const db = await done(indexedDB.open("ledger"));
const store = db.transaction("entries").objectStore("entries");
console.log("after restart: keys", JSON.stringify(await done(store.getAllKeys())));

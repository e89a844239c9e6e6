// Offline: cached routes still answer; the POST fails and Workbox queues it.
const registration = await navigator.serviceWorker.ready;
console.log("offline: onLine", navigator.onLine, "controlled", navigator.serviceWorker.controller !== null);
const api = await fetch("/api/data.json");
console.log("offline: network first from cache", api.status, JSON.stringify(await api.json()));
try {
  await fetch("{{AUX}}/echo", { method: "POST", body: "hello outbox" });
  console.log("offline: POST went through");
} catch (error) {
  console.log("offline: POST failed", error.name);
}
console.log("offline: sync tags", JSON.stringify(await registration.sync.getTags()));

self.addEventListener("backgroundfetchsuccess", (event) => {
  event.waitUntil((async () => {
    const clients = await self.clients.matchAll({ includeUncontrolled: true });
    for (const client of clients) client.postMessage(`sw: success ${event.registration.downloaded}`);
  })());
});

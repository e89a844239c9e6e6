self.addEventListener("backgroundfetchsuccess", (event) => {
  event.waitUntil((async () => {
    const records = await event.registration.matchAll(undefined, { ignoreMethod: true });
    for (const record of records) {
      const sent = (await record.request.arrayBuffer()).byteLength;
      const reply = await (await record.responseReady).text();
      console.log("sw:", record.request.method, "request body", sent, "server saw", reply);
    }
  })());
});

let kept = null; // the success event's registration and records

self.addEventListener("backgroundfetchsuccess", (event) => {
  event.waitUntil((async () => {
    const records = await event.registration.matchAll();
    kept = { registration: event.registration, records };
    console.log("sw: records during the event", records.length + ", read none");
  })());
});

self.addEventListener("message", (event) => {
  if (event.data !== "check") return;
  event.waitUntil((async () => {
    try {
      await kept.registration.matchAll();
      console.log("sw: matchAll after the event resolved");
    } catch (e) {
      console.log("sw: matchAll after the event", e.name);
    }
    const [upload, download] = kept.records;
    const sent = new Uint8Array(await upload.request.arrayBuffer());
    const reply = await (await upload.responseReady).text();
    console.log("sw: upload request body", sent.length, "bytes, intact", sent.every((b, i) => b === i % 251) + ", reply", reply);
    const received = await (await download.responseReady).arrayBuffer();
    console.log("sw: download", download.request.method, "response", received.byteLength, "bytes");
    event.source.postMessage("checked");
  })());
});

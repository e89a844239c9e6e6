self.addEventListener("activate", (e) => e.waitUntil(clients.claim()));
self.addEventListener("message", async (e) => {
  console.log("sw got", JSON.stringify(e.data), e.source.type, e.source.url);
  const all = await clients.matchAll();
  console.log("clients", all.length);
  e.source.postMessage({ reply: "pong" });
});

// Time for backgroundFetch.fetch() to accept a request body of 1, 8 and 32
// MiB: the body crosses from JavaScript to the engine and is stored before
// fetch() resolves. The upload itself goes to a closed loopback port and
// fails afterwards; each fetch is aborted at once. Run:
//   swrt run bench/request-body-sw.js
self.addEventListener("activate", (e) => e.waitUntil((async () => {
  for (const mb of [1, 8, 32]) {
    const body = new Uint8Array(mb << 20).fill(7);
    const t0 = performance.now();
    try {
      const reg = await self.registration.backgroundFetch.fetch(`body-${mb}`, new Request("http://127.0.0.1:9/", { method: "POST", body }));
      console.log(`${mb} MiB: fetch() resolved in ${(performance.now() - t0).toFixed(1)} ms`);
      await reg.abort();
    } catch (err) {
      console.log(`${mb} MiB: ${err.name} after ${(performance.now() - t0).toFixed(1)} ms`);
    }
  }
})()));

// Answers navigations with what their preloadResponse held: the preload's
// status and text, or "no preload" when it resolved with undefined.
self.addEventListener("fetch", (event) => {
  if (event.request.mode !== "navigate") return;
  event.respondWith((async () => {
    const preload = await event.preloadResponse;
    const title = preload === undefined
      ? "no preload"
      : `${preload instanceof Response} ${preload.status} ${await preload.text()}`;
    return new Response(`<!DOCTYPE html><title>${title}</title>`, { headers: { "Content-Type": "text/html" } });
  })());
});

// An unmodified Workbox 7 service worker, bundled from npm at test time
// (see README.md): precaching, NetworkFirst, StaleWhileRevalidate,
// CacheFirst with an ExpirationPlugin, and a NetworkOnly POST route whose
// failures a BackgroundSyncPlugin queues and replays on the `sync` event.
import { clientsClaim } from "workbox-core";
import { precacheAndRoute } from "workbox-precaching";
import { registerRoute } from "workbox-routing";
import { CacheFirst, NetworkFirst, NetworkOnly, StaleWhileRevalidate } from "workbox-strategies";
import { ExpirationPlugin } from "workbox-expiration";
import { BackgroundSyncPlugin } from "workbox-background-sync";

self.skipWaiting();
clientsClaim();

precacheAndRoute([{ url: "/app.css", revision: "1" }]);

// Tells the page once a response is in the cache and the plugins before
// this one (the expiration) have run: Workbox awaits cacheDidUpdate
// callbacks in order.
const tellClients = {
  cacheDidUpdate: async ({ cacheName, request }) => {
    for (const client of await self.clients.matchAll()) {
      client.postMessage(`${cacheName} updated ${new URL(request.url).pathname}`);
    }
  },
};

registerRoute(
  ({ url }) => url.pathname.startsWith("/api/"),
  new NetworkFirst({ cacheName: "api", plugins: [tellClients] }),
);
registerRoute(
  ({ url }) => url.pathname.startsWith("/static/"),
  new StaleWhileRevalidate({ cacheName: "static", plugins: [tellClients] }),
);
registerRoute(
  ({ url }) => url.pathname.startsWith("/images/"),
  new CacheFirst({
    cacheName: "images",
    plugins: [new ExpirationPlugin({ maxEntries: 2 }), tellClients],
  }),
);

// Replays the queued requests itself to say what the server answered;
// Workbox's default replay is the same loop without the logging.
const outbox = new BackgroundSyncPlugin("outbox", {
  maxRetentionTime: 24 * 60,
  onSync: async ({ queue }) => {
    let entry;
    while ((entry = await queue.shiftRequest())) {
      try {
        const response = await fetch(entry.request.clone());
        console.log(`sw: replayed ${entry.request.method} ${new URL(entry.request.url).pathname}: ${await response.text()}`);
      } catch (error) {
        await queue.unshiftRequest(entry);
        throw error;
      }
    }
    console.log("sw: outbox empty");
  },
});
registerRoute(
  ({ url }) => url.pathname === "/echo",
  new NetworkOnly({ plugins: [outbox] }),
  "POST",
);

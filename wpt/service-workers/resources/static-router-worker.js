// Adds router rules in its install event (static routing) and reports which
// rules addRoutes() refused.
const refusals = [];

self.addEventListener("install", (e) => {
  e.waitUntil((async () => {
    const cache = await caches.open("router-test");
    await cache.put("router/data.txt?route=cache", new Response("from the cache"));
    const refused = [
      { condition: {}, source: "network" },
      { condition: { urlPattern: "/(a|b)" }, source: "network" },
      { condition: { requestMode: "cors" }, source: "nowhere" },
      { condition: { requestMode: "cors", not: { requestMode: "navigate" } }, source: "network" },
      { condition: { requestMethod: "not a method" }, source: "network" },
      { source: "network" },
    ];
    for (const rule of refused) {
      try {
        await e.addRoutes(rule);
        refusals.push("accepted");
      } catch (error) {
        refusals.push(error.name);
      }
    }
    await e.addRoutes([
      { condition: { urlPattern: "router/data.txt?route=network" }, source: "network" },
      { condition: { urlPattern: { pathname: "/*/router/data.txt", search: "route=cache" } }, source: { cacheName: "router-test" } },
      { condition: { urlPattern: { pathname: "/*/router/data.txt", search: "route=empty-cache" } }, source: { cacheName: "no-such-cache" } },
      { condition: { urlPattern: { pathname: "/*/router/data.txt", search: "route=race" } }, source: "race-network-and-fetch-handler" },
    ]);
    await e.addRoutes({
      condition: { _or: [{ requestMethod: "put" }, { not: { urlPattern: { pathname: "/*/router/*" } } }] },
      source: "fetch-event",
    });
  })());
});

self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (e.request.mode === "navigate") {
    e.respondWith(new Response("<!doctype html><title>routed frame</title>", { headers: { "content-type": "text/html" } }));
  } else if (url.search === "?route=race") {
    // The fetch handler loses the race: the network answers.
    e.respondWith(Promise.reject(new Error("no answer from the handler")));
  } else {
    e.respondWith(new Response("from the fetch event"));
  }
});

self.addEventListener("message", async (e) => {
  let outside;
  try {
    await new InstallEvent("install").addRoutes({ condition: { requestMode: "cors" }, source: "network" });
    outside = "accepted";
  } catch (error) {
    outside = error.name;
  }
  e.ports[0].postMessage({ refusals, outside });
});

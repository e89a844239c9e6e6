// A later run on the same data dir: the cache is still there.
const cache = await caches.open("v1");
console.log("after restart:", await (await cache.match("/a")).text(), (await cache.keys()).length);

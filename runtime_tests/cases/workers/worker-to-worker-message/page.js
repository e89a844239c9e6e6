const reg = await navigator.serviceWorker.register("sw.js?v=1");
await navigator.serviceWorker.ready;
await navigator.serviceWorker.register("sw.js?v=2");
while (!reg.active || !reg.active.scriptURL.endsWith("v=2")) {
  await new Promise((resolve) => setTimeout(resolve, 20));
}
console.log("page: v2 active");

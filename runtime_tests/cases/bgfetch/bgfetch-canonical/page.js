// The page starts the download with a title, icons and downloadTotal, and
// shows progress as a percentage.
const reg = await navigator.serviceWorker.register("sw.js");
await navigator.serviceWorker.ready;
const EPISODE = 600000;
const ART = 5000;
const bgFetch = await reg.backgroundFetch.fetch("episode-5", ["{{AUX}}/bytes/600000?delay_ms=5", "{{AUX}}/bytes/5000"], {
  title: "Episode 5: Interesting things",
  icons: [{ sizes: "300x300", src: "/ep-5-icon.png", type: "image/png" }],
  downloadTotal: EPISODE + ART,
});
console.log("page: started", bgFetch.id, bgFetch.downloadTotal, bgFetch.result === "", bgFetch.recordsAvailable);
const copy = {};
for (const key in bgFetch) if (typeof bgFetch[key] !== "function") copy[key] = bgFetch[key];
console.log("page: enumerable", Object.keys(copy).sort().join(","));
let sawPartial = false;
await new Promise((resolve) => {
  bgFetch.addEventListener("progress", () => {
    const percent = Math.round((bgFetch.downloaded / bgFetch.downloadTotal) * 100);
    if (percent > 0 && percent < 100) sawPartial = true;
    if (bgFetch.result !== "") resolve();
  });
});
console.log("page: result", bgFetch.result, bgFetch.failureReason === "", bgFetch.downloaded, "partial progress seen", sawPartial);

// Runs as `swrt run --client page.js` next to sw.js: the directory is the
// origin, so relative URLs reach its files.
const swReg = await navigator.serviceWorker.register("sw.js");
await navigator.serviceWorker.ready;
const bgFetch = await swReg.backgroundFetch.fetch("my-fetch", ["/episode.txt", "artwork.svg"], {
  title: "Episode 5: Interesting things.",
  icons: [{ sizes: "300x300", src: "/artwork.svg", type: "image/svg+xml" }],
  downloadTotal: 60 * 1024,
});
console.log("page: fetch started", bgFetch.id);
const missing = await fetch("/not-here.txt");
console.log("page: missing file", missing.status);

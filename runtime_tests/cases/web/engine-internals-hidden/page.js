// The same listing in a page (a module script) and in its dedicated worker.
const worker = new Worker("worker.js");
const answer = new Promise((resolve) => {
  worker.onmessage = (e) => resolve(e.data);
});
(0, eval)(await (await fetch("check.js")).text());
console.log("page:", globalListing());
console.log("dedicated worker:", await answer);
worker.terminate();

// The run lasts while a worker has work (a timer, a message on its way)
// and ends once only listeners are left, in the page and in its workers.
const worker = new Worker("slow.js");
worker.onmessage = (e) => {
  console.log("the page got:", e.data);
  // The page's own timer, set in a message handler after its script ended.
  setTimeout(() => console.log("the page's last timer fired"), 200);
};
worker.postMessage("start");
console.log("the page's script ended");

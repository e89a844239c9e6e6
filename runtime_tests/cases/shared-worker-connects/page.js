// One shared worker per (script URL, name): every `new SharedWorker` of the
// page, or of a dedicated worker of the page, connects to the same instance
// and gets its own port; another name is another instance.
function ask(shared, question) {
  shared.port.postMessage(question);
  return new Promise((resolve) => {
    shared.port.onmessage = (e) => resolve(e.data);
  });
}
const first = new SharedWorker("counter.js", "counter");
console.log("first:", await ask(first, "count"));
const second = new SharedWorker("counter.js", { name: "counter" });
console.log("second:", await ask(second, "count"));
const worker = new Worker("connects-too.js");
console.log("from a dedicated worker:", await new Promise((resolve) => {
  worker.onmessage = (e) => resolve(e.data);
}));
const other = new SharedWorker("counter.js", "another");
console.log("another name:", await ask(other, "count"));
const module = new SharedWorker("counter.js", { name: "counter", type: "module" });
console.log("same name, other type:", await new Promise((resolve) => {
  module.onerror = (e) => resolve(e.type);
}));
for (const shared of [first, second, other]) shared.port.close();

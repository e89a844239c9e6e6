// One shared worker per (script URL, name): every `new SharedWorker`
// connects to the same instance and gets its own port; another name is
// another instance. Dedicated workers cannot create shared workers.
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
const third = new SharedWorker("counter.js", "counter");
console.log("third:", await ask(third, "count"));
const worker = new Worker("no-shared-workers.js");
console.log("in a dedicated worker:", await new Promise((resolve) => {
  worker.onmessage = (e) => resolve(e.data);
}));
const other = new SharedWorker("counter.js", "another");
console.log("another name:", await ask(other, "count"));
const module = new SharedWorker("counter.js", { name: "counter", type: "module" });
console.log("same name, other type:", await new Promise((resolve) => {
  module.onerror = (e) => resolve(e.type);
}));
for (const shared of [first, second, third, other]) shared.port.close();

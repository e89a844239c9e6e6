// A page and its dedicated workers: structured messages with transferred
// ArrayBuffers and MessagePorts, a module worker that creates a classic
// worker of its own, and terminate() of a worker that would never end.
const echo = new Worker("echo.js", { name: "echo" });
const echoed = new Promise((resolve) => {
  echo.onmessage = (e) => resolve(e.data);
});
const buffer = new Uint8Array([1, 2, 3]).buffer;
const channel = new MessageChannel();
echo.postMessage({ buffer, map: new Map([["k", 1]]) }, [buffer, channel.port2]);
console.log("sent; the page's buffer is detached:", buffer.byteLength === 0);
console.log("over the transferred port:", await new Promise((resolve) => {
  channel.port1.onmessage = (e) => resolve(e.data);
}));
channel.port1.close();
console.log("echo answered:", await echoed);

const parent = new Worker("parent.js", { type: "module" });
const parentAnswer = new Promise((resolve) => {
  parent.onmessage = (e) => resolve(e.data);
});
parent.postMessage("hi");
console.log("module worker answered:", await parentAnswer);
parent.terminate();

const forever = new Worker("forever.js");
await new Promise((resolve) => {
  forever.onmessage = resolve;
});
forever.terminate();
forever.postMessage("ignored after terminate()");
console.log("terminated the worker with an interval");

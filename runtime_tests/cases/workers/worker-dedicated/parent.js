import { shout } from "./shout.js";
console.log("module worker: importScripts is", typeof importScripts);
const child = new Worker("child.js");
onmessage = (e) => {
  child.onmessage = (reply) => postMessage(`child said ${reply.data}, ${shout("module")}`);
  child.postMessage(e.data);
};

import { started } from "./helper.mjs";

console.log("module worker evaluated, import ok:", typeof started === "number");
self.addEventListener("message", (e) => {
  e.source.postMessage(`echo ${e.data}`);
});

// First run: install a classic worker (importScripts) and a module worker
// (static import).
import { ask } from "./ask.mjs";

for (const [url, scope, type] of [["classic-sw.js", "./classic/", "classic"], ["module-sw.mjs", "./module/", "module"]]) {
  const reg = await navigator.serviceWorker.register(url, { scope, type });
  while (!reg.active || reg.active.state !== "activated") await new Promise((r) => setTimeout(r, 20));
}
console.log("installed:", await ask("./classic/"), "/", await ask("./module/"));

// First run: install a classic worker (importScripts) and a module worker
// (static import).
for (const [url, scope, type] of [["classic-sw.js", "./classic/", "classic"], ["module-sw.mjs", "./module/", "module"]]) {
  const reg = await navigator.serviceWorker.register(url, { scope, type });
  while (!reg.active || reg.active.state !== "activated") await new Promise((r) => setTimeout(r, 20));
}
// Asks the active worker of each scope which code it runs.
async function ask(scope) {
  const reg = await navigator.serviceWorker.getRegistration(scope);
  const channel = new MessageChannel();
  const answer = new Promise((resolve) => {
    channel.port1.onmessage = (e) => {
      channel.port1.close();
      resolve(e.data);
    };
  });
  reg.active.postMessage("version?", [channel.port2]);
  return answer;
}
console.log("installed:", await ask("./classic/"), "/", await ask("./module/"));

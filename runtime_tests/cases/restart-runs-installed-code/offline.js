// Second run: the scripts are gone from the origin; the restored workers run
// the code they installed.
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
console.log("restarted offline:", await ask("./classic/"), "/", await ask("./module/"));

// Third run: only the imported scripts changed; update() notices and
// installs new versions.
for (const scope of ["./classic/", "./module/"]) {
  const reg = await navigator.serviceWorker.getRegistration(scope);
  const before = reg.active;
  await reg.update();
  while (reg.active === before || reg.active.state !== "activated") await new Promise((r) => setTimeout(r, 20));
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
console.log("updated:", await ask("./classic/"), "/", await ask("./module/"));

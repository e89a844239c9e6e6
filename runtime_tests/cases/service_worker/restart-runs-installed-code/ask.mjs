// Asks the active worker of a scope which code it runs.
export async function ask(scope) {
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

// Run as a dedicated worker and as a shared worker: its own
// ServiceWorkerContainer, a client of the page's service worker.
async function report(say) {
  const container = navigator.serviceWorker;
  const name = (url) => (url ? new URL(url).pathname.slice(1) : url);
  say(
    `container ${container instanceof ServiceWorkerContainer} same ${container === navigator.serviceWorker} ` +
      `controller ${name(container.controller?.scriptURL ?? null)}`,
  );
  const registration = await container.ready;
  say(`ready ${name(registration.active.scriptURL)} same registration ${registration === (await container.ready)}`);
  const found = await container.getRegistration();
  say(`getRegistration ${found === registration} getRegistrations ${(await container.getRegistrations()).length}`);
  await registration.sync.register(`from-${self.name}`);
  say(`tags ${JSON.stringify((await registration.sync.getTags()).sort())}`);
  // The service worker answers this worker as a Client of type "worker" or
  // "sharedworker".
  const answer = new Promise((resolve) => {
    container.onmessage = (e) => resolve(e.data);
  });
  container.controller.postMessage("hello");
  say(`message from the service worker: ${await answer}`);
  say("done");
}

if (typeof onconnect === "undefined" && typeof postMessage === "function") {
  report((line) => postMessage(line));
} else {
  onconnect = (event) => {
    const [port] = event.ports;
    report((line) => port.postMessage(line));
  };
}

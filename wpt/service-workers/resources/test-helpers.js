// Helpers for swrt's own service-worker tests (written for swrt, in the
// style of upstream's service-workers/service-worker/resources/test-helpers.sub.js).

// Registers `url` for `scope` and unregisters it when the test ends.
async function service_worker_unregister_and_register(t, url, scope) {
  const existing = await navigator.serviceWorker.getRegistration(scope);
  if (existing && existing.unregister) await existing.unregister();
  const registration = await navigator.serviceWorker.register(url, { scope });
  t.add_cleanup(() => registration.unregister && registration.unregister().catch(() => {}));
  return registration;
}

// Resolves once `worker` reaches `state`.
function wait_for_state(t, worker, state) {
  if (!worker || worker.state === undefined) {
    return Promise.reject(new Error("wait_for_state needs a ServiceWorker"));
  }
  return new Promise((resolve) => {
    if (worker.state === state) return resolve(state);
    worker.addEventListener("statechange", t.step_func(() => {
      if (worker.state === state) resolve(state);
    }));
  });
}

// Sends `message` to `worker` with a MessageChannel and resolves with the reply.
function post_and_wait(worker, message) {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (e) => resolve(e.data);
    worker.postMessage(message, [channel.port2]);
  });
}

// Inserts an iframe for `url`, resolves once it has loaded, and removes it
// when the test ends (the shape of upstream's with_iframe).
function with_iframe(url) {
  return new Promise((resolve) => {
    const frame = document.createElement("iframe");
    frame.className = "test-iframe";
    frame.src = url;
    frame.onload = () => resolve(frame);
    document.body.appendChild(frame);
  });
}

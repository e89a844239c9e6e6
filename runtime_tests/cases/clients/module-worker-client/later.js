// A later run restores the registration as a module worker.
const reg = await navigator.serviceWorker.getRegistration();
const answer = new Promise((resolve) => {
  navigator.serviceWorker.onmessage = (e) => resolve(e.data);
});
reg.active.postMessage("after restart");
console.log("page got:", await answer);

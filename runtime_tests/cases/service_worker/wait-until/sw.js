// waitUntil extends the event; outside an active event it throws InvalidStateError.
let installEvent;
self.oninstall = (event) => {
  installEvent = event;
  const start = Date.now();
  event.waitUntil(new Promise((resolve) => setTimeout(resolve, 200)).then(() => {
    console.log("install extended", Date.now() - start >= 190);
  }));
};
self.addEventListener("activate", (event) => {
  try {
    installEvent.waitUntil(Promise.resolve());
  } catch (err) {
    console.log("finished event:", err.name, err instanceof DOMException);
  }
  try {
    new ExtendableEvent("synthetic").waitUntil(Promise.resolve());
  } catch (err) {
    console.log("untrusted event:", err.name);
  }
  event.waitUntil(new Promise((resolve) => setTimeout(resolve, 10)).then(() => {
    // Still active: a pending promise keeps the event alive.
    event.waitUntil(Promise.resolve());
    console.log("nested waitUntil ok");
  }));
  setTimeout(() => {
    try {
      event.waitUntil(Promise.resolve());
    } catch (err) {
      console.log("late:", err.name);
    }
  }, 0);
});

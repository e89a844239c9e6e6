setInterval(() => {}, 1000);
postMessage("started");

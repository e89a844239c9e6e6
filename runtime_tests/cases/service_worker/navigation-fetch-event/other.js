console.log("other.js from the network, controlled:", navigator.serviceWorker.controller !== null);

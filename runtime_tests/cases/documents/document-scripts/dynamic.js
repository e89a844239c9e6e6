console.log("dynamic.js: currentScript src:", new URL(document.currentScript.src).pathname);

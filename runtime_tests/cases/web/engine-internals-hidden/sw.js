importScripts("check.js");
console.log("service worker:", globalListing());

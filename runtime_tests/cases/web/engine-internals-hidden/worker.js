importScripts("check.js");
postMessage(globalListing());

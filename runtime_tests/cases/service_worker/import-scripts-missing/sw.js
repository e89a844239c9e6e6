importScripts("nope.js");

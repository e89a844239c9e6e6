importScripts("helper.js");
onmessage = (e) => postMessage(helper(e.data));

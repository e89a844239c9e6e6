// Throws an exception nobody handles.
throw new TypeError("thrown by throws-worker.js");

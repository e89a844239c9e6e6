// Loaded with importScripts(): declares a global function.
function helperLoaded() {
  return "helper " + self.constructor.name;
}

// Records that it ran, with the query it was loaded with.
(function () {
  window.recorded = window.recorded || [];
  const name = "record.js" + new URL(document.currentScript.src).search;
  window.recorded.push(name);
  if (name === "record.js?deferred") {
    window.order.push(name + ", readyState " + document.readyState);
  }
})();

// swrt wpt's testdriver-vendor.js: wires test_driver to the runner. Like
// the results, requests travel as console lines tagged with the page's token
// (see testharnessreport.js): the runner applies them while the console call
// runs, and no page policy can block them.
(function () {
  "use strict";
  const internal = (self.test_driver_internal = self.test_driver_internal || {});
  const log = console.log.bind(console);
  const stringify = JSON.stringify;
  internal.set_permission = function (params, _context) {
    const config = self.__swrt_wpt || {};
    if (!config.token) return Promise.reject(new Error("swrt wpt: no runner token"));
    const descriptor = params.descriptor || {};
    const request = { name: descriptor.name, state: params.state, origin: self.location.origin };
    log("%s", "[swrt-wpt-permission " + String(config.token) + "] " + stringify(request));
    return Promise.resolve();
  };
})();

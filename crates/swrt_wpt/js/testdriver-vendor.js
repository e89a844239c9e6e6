// swrt wpt's testdriver-vendor.js: wires test_driver to the runner.
(function () {
  "use strict";
  const internal = (self.test_driver_internal = self.test_driver_internal || {});
  internal.set_permission = function (params, _context) {
    const config = self.__swrt_wpt || {};
    if (!config.permission) return Promise.reject(new Error("swrt wpt: no runner endpoint"));
    const descriptor = params.descriptor || {};
    return fetch(config.permission, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: descriptor.name, state: params.state, origin: self.location.origin }),
    }).then(async (r) => {
      if (!r.ok) throw new Error(`swrt wpt: set_permission failed: ${await r.text()}`);
    });
  };
})();

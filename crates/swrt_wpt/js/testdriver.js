// swrt wpt's testdriver.js: the part of WPT's test_driver API that a
// runtime without a browser UI can honour. Permission changes go to the
// runner (see testdriver-vendor.js); user-input actions reject.
(function () {
  "use strict";
  const global = self;
  const internal = (global.test_driver_internal = global.test_driver_internal || {});
  function unsupported(name) {
    return () => Promise.reject(new Error(`swrt wpt: test_driver.${name} is not supported`));
  }
  for (const name of ["set_permission"]) {
    if (!internal[name]) internal[name] = unsupported(name);
  }
  global.test_driver = {
    set_test_context() {},
    message_test() { return Promise.resolve(); },
    set_permission(descriptor, state, context = null) {
      return internal.set_permission({ descriptor, state }, context);
    },
    bless(intent, action, context = null) {
      return Promise.resolve().then(() => (typeof action === "function" ? action() : undefined));
    },
    delete_all_cookies() { return Promise.resolve(); },
    minimize_window() { return Promise.resolve({}); },
    set_window_rect() { return Promise.resolve(); },
    get_named_cookie: unsupported("get_named_cookie"),
    click: unsupported("click"),
    send_keys: unsupported("send_keys"),
    action_sequence: unsupported("action_sequence"),
    generate_test_report: unsupported("generate_test_report"),
    set_spc_transaction_mode: unsupported("set_spc_transaction_mode"),
    Actions: undefined,
  };
})();

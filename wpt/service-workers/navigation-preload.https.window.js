// META: script=resources/test-helpers.js
// META: title=NavigationPreloadManager: state per registration

promise_test(async (t) => {
  const registration = await service_worker_unregister_and_register(
    t, "resources/empty-worker.js", "resources/scope/navigation-preload");
  await wait_for_state(t, registration.installing, "activated");
  const manager = registration.navigationPreload;
  assert_true(manager instanceof NavigationPreloadManager);
  assert_equals(registration.navigationPreload, manager, "[SameObject]");
  assert_throws_js(TypeError, () => new NavigationPreloadManager());
  assert_object_equals(await manager.getState(), { enabled: false, headerValue: "true" }, "the default state");
  assert_equals(await manager.enable(), undefined);
  assert_object_equals(await manager.getState(), { enabled: true, headerValue: "true" });
  await manager.setHeaderValue("hello, world");
  assert_object_equals(await manager.getState(), { enabled: true, headerValue: "hello, world" });
  await manager.disable();
  assert_object_equals(await manager.getState(), { enabled: false, headerValue: "hello, world" });
  await promise_rejects_js(t, TypeError, manager.setHeaderValue("line\nbreak"));
  await promise_rejects_js(t, TypeError, manager.setHeaderValue("\u0100"), "not a ByteString");
  const again = await navigator.serviceWorker.getRegistration("resources/scope/navigation-preload");
  assert_object_equals(await again.navigationPreload.getState(), { enabled: false, headerValue: "hello, world" },
                       "the state belongs to the registration");
}, "enable(), disable(), setHeaderValue() and getState() keep the registration's navigation preload state");

promise_test(async (t) => {
  const registration = await service_worker_unregister_and_register(
    t, "resources/held-install-worker.js", "resources/scope/navigation-preload-installing");
  const installing = registration.installing;
  t.add_cleanup(() => installing.postMessage("finish-install"));
  await promise_rejects_dom(t, "InvalidStateError", registration.navigationPreload.enable());
  await promise_rejects_dom(t, "InvalidStateError", registration.navigationPreload.disable());
  await promise_rejects_dom(t, "InvalidStateError", registration.navigationPreload.setHeaderValue("x"));
  assert_object_equals(await registration.navigationPreload.getState(), { enabled: false, headerValue: "true" });
}, "without an active worker, enable(), disable() and setHeaderValue() reject with InvalidStateError");

promise_test(async (t) => {
  const scope = "resources/frame-scope/";
  const registration = await service_worker_unregister_and_register(t, "resources/preload-worker.js", scope);
  await wait_for_state(t, registration.installing, "activated");
  const title = async (url) => {
    const frame = await with_iframe(url);
    t.add_cleanup(() => frame.remove());
    return frame.contentDocument.title;
  };
  assert_equals(await title(scope + "preload-echo.py?disabled"), "no preload", "disabled: undefined");
  await registration.navigationPreload.enable();
  assert_equals(await title(scope + "preload-echo.py?enabled"), "true 201 header true",
                "enabled: the preload's response, sent with the default header value");
  await registration.navigationPreload.setHeaderValue("custom value");
  assert_equals(await title(scope + "preload-echo.py?custom"), "true 201 header custom value");
}, "a navigation's FetchEvent.preloadResponse is the navigation preload's response when enabled");

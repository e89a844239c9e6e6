// META: global=window,dedicatedworker,sharedworker,serviceworker
// META: script=/resources/WebIDLParser.js
// META: script=/resources/idlharness.js
// META: timeout=long
// The Service Workers and Cache API interfaces against service-workers.idl
// (npm @webref/idl, the source of WPT's /interfaces/), in upstream's shape:
// [Exposed] per global, interface objects, prototype chains, attributes,
// operations, Symbol.toStringTag, and members of live instances.
"use strict";

idl_test(
  ["service-workers"],
  ["dom", "html", "fetch", "urlpattern"],
  async (idlArray, t) => {
    self.cacheInstance = await caches.open("idlharness");
    t.add_cleanup(() => caches.delete("idlharness"));
    idlArray.add_objects({
      CacheStorage: ["caches"],
      Cache: ["self.cacheInstance"],
      ServiceWorkerContainer: ["navigator.serviceWorker"],
    });
    if (!self.ServiceWorkerGlobalScope) {
      // A window or a dedicated or shared worker: a client that registers.
      const registration = await navigator.serviceWorker.register("resources/empty-worker.js", {
        scope: "resources/scope/idlharness",
      });
      t.add_cleanup(() => registration.unregister());
      self.registrationInstance = registration;
      idlArray.add_objects({
        ServiceWorkerRegistration: ["registrationInstance"],
        ServiceWorker: ["registrationInstance.installing || registrationInstance.waiting || registrationInstance.active"],
        NavigationPreloadManager: ["registrationInstance.navigationPreload"],
      });
    } else if (self.ServiceWorkerGlobalScope) {
      idlArray.add_objects({
        Clients: ["clients"],
        ExtendableEvent: ['new ExtendableEvent("type")'],
        ExtendableMessageEvent: ['new ExtendableMessageEvent("type")'],
        FetchEvent: ['new FetchEvent("type", { request: new Request("") })'],
        InstallEvent: ['new InstallEvent("type")'],
        ServiceWorkerGlobalScope: ["self"],
        ServiceWorkerRegistration: ["registration"],
        ServiceWorker: ["serviceWorker"],
        NavigationPreloadManager: ["registration.navigationPreload"],
      });
    }
  },
);

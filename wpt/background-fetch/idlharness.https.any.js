// META: global=window,serviceworker
// META: script=/resources/WebIDLParser.js
// META: script=/resources/idlharness.js
// META: timeout=long
// The Background Fetch interfaces against background-fetch.idl (npm
// @webref/idl, the source of WPT's /interfaces/): interface objects,
// prototype chains, length/name, attributes, operations, constructibility.
"use strict";

idl_test(
  ["background-fetch"],
  ["service-workers", "html", "dom", "fetch", "image-resource"],
  async (idlArray) => {
    const inWorker = typeof ServiceWorkerGlobalScope !== "undefined" && self instanceof ServiceWorkerGlobalScope;
    if (inWorker) {
      idlArray.add_objects({
        ServiceWorkerGlobalScope: ["self"],
        ServiceWorkerRegistration: ["registration"],
        BackgroundFetchManager: ["registration.backgroundFetch"],
      });
    } else {
      const registration = await navigator.serviceWorker.register("resources/empty-worker.js", {
        scope: "resources/idl-scope/",
      });
      self.testRegistration = registration;
      idlArray.add_objects({
        ServiceWorkerRegistration: ["testRegistration"],
        BackgroundFetchManager: ["testRegistration.backgroundFetch"],
      });
    }
  },
);

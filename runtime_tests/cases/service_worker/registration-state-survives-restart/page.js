// First run: a registration with updateViaCache "none" whose navigations
// are preloaded with a header value of its own, and whose worker added a
// router rule in its install event.
import { report, routes } from "./report.mjs";

const registration = await navigator.serviceWorker.register("sw.js", { scope: "./app/", updateViaCache: "none" });
const worker = registration.installing;
while (worker.state !== "activated") {
  await new Promise((resolve) => worker.addEventListener("statechange", resolve, { once: true }));
}
await registration.navigationPreload.enable();
await registration.navigationPreload.setHeaderValue("v2");
await report("before restart", registration);
await routes();

// A restored registration's state changes are stored too: an update with
// another updateViaCache (the script is unchanged, so no new worker) and
// disable().
import { report } from "./report.mjs";

const registration = await navigator.serviceWorker.register("sw.js", { scope: "./app/", updateViaCache: "all" });
await registration.navigationPreload.disable();
await report("disabled", registration);

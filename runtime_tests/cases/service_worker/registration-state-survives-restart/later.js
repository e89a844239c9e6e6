// A later run restores the registration with the state it had, and its
// worker with its router rules.
import { report, routes } from "./report.mjs";

await report("after restart", await navigator.serviceWorker.getRegistration("./app/"));
await routes();

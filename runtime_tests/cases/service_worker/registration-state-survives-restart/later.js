// A later run restores the registration with the state it had.
import { report } from "./report.mjs";

await report("after restart", await navigator.serviceWorker.getRegistration("./app/"));

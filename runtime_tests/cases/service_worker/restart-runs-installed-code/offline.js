// Second run: the scripts are gone from the origin; the restored workers run
// the code they installed.
import { ask } from "./ask.mjs";

console.log("restarted offline:", await ask("./classic/"), "/", await ask("./module/"));

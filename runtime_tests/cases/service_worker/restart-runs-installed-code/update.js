// Third run: only the imported scripts changed; update() notices and
// installs new versions.
import { ask } from "./ask.mjs";

for (const scope of ["./classic/", "./module/"]) {
  const reg = await navigator.serviceWorker.getRegistration(scope);
  const before = reg.active;
  await reg.update();
  while (reg.active === before || reg.active.state !== "activated") await new Promise((r) => setTimeout(r, 20));
}
console.log("updated:", await ask("./classic/"), "/", await ask("./module/"));

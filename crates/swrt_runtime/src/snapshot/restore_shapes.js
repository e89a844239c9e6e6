// Runs in an engine booted from a startup snapshot right after the realm's
// bootstrap, before any script of the worker: puts back the attributes,
// primitive values and prototypes `record_shapes.js` recorded that the boot
// restored differently, and the properties it lost, then removes the record. The
// classes Rust defines are found on the global under their own name (the
// snapshot gives the ops table fresh copies; the bootstrap installs the
// ones the extensions' JavaScript shaped). Evaluates to the properties it
// redefined (JSON, `"index:name"`): the log, and the snapshot's creation,
// which keeps only those in the record.
(() => {
  const key = Symbol.for("swrt.snapshotShapes");
  const shapes = globalThis[key] ?? [];
  delete globalThis[key];
  const resolve = (target) => {
    if (typeof target !== "string") return target;
    const [name, prototype] = target.split(".");
    let value = Object.getOwnPropertyDescriptor(globalThis, name)?.value;
    // Before a bootstrap (when the snapshot is made), from the ops table.
    if (typeof value !== "function") value = globalThis.__bootstrap?.core?.ops?.[name];
    if (typeof value !== "function") return undefined;
    return prototype ? value.prototype : value;
  };
  // Functions the engine installs again in every context keep their new
  // identity; a primitive or attribute that differs, or a property that is
  // gone, is put back.
  const same = (field, have, want) => {
    if (field === "value" || field === "get" || field === "set") {
      const reference = typeof want === "object" || typeof want === "function";
      return reference ? have !== undefined : Object.is(have, want);
    }
    return have === want;
  };
  const redefined = [];
  shapes.forEach(([target, descriptors, inherits], index) => {
    const object = resolve(target);
    if (object === undefined) return;
    if (inherits !== undefined && Object.getPrototypeOf(object) !== inherits) {
      Object.setPrototypeOf(object, inherits);
      redefined.push(`${index}:[[Prototype]]`);
    }
    for (const name of Reflect.ownKeys(descriptors)) {
      const want = descriptors[name];
      const have = Object.getOwnPropertyDescriptor(object, name);
      if (have === undefined && !("value" in want || "get" in want || "set" in want)) continue;
      const differs =
        have === undefined ||
        Reflect.ownKeys(want).some((field) => !same(field, have[field], want[field]));
      if (differs) {
        Object.defineProperty(object, name, want);
        redefined.push(`${index}:${String(name)}`);
      }
    }
  });
  return JSON.stringify(redefined);
})();

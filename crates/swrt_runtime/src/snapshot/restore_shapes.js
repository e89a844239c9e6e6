// Runs in an engine booted from a startup snapshot right after the realm's
// bootstrap, before any script of the worker: puts back the attributes,
// primitive values and prototypes `record_shapes.js` recorded that the boot
// restored differently, and the properties it lost, then removes the record. The
// classes Rust defines are found on the global under their own name (the
// snapshot gives the ops table fresh copies; the bootstrap installs the
// ones the extensions' JavaScript shaped). Evaluates to the properties it
// redefined, for the log.
//
// It runs in two steps, so that little of it is on a worker's start when
// the engine was created ahead of time: when the engine is created, for
// the global classes (found by reference; `ofRustClasses` false), and after
// the bootstrap, for the classes Rust defines (`ofRustClasses` true), which
// also removes the record.
((ofRustClasses) => {
  const key = Symbol.for("swrt.snapshotShapes");
  const all = globalThis[key] ?? [];
  if (ofRustClasses) delete globalThis[key];
  const shapes = all.filter(([target]) => (typeof target === "string") === ofRustClasses);
  const resolve = (target) => {
    if (typeof target !== "string") return target;
    const [name, prototype] = target.split(".");
    const value = Object.getOwnPropertyDescriptor(globalThis, name)?.value;
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
  for (const [target, descriptors, inherits] of shapes) {
    const object = resolve(target);
    if (object === undefined) continue;
    if (inherits !== undefined && Object.getPrototypeOf(object) !== inherits) {
      Object.setPrototypeOf(object, inherits);
      redefined.push(`[[Prototype]] of ${String(descriptors.name?.value ?? "")}`);
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
        redefined.push(String(name));
      }
    }
  }
  return redefined.join(" ");
})

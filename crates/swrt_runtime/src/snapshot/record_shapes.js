// Runs in the engine a startup snapshot is taken of, after every
// extension's JavaScript. The engine restores the constructors it builds
// from templates (the classes of deno_crypto, say) and the intrinsic
// prototypes with the attributes they were created with, losing what the
// extensions' JavaScript redefined on them afterwards (an interface
// object's `length`, a `prototype` made read-only, a method the engine's
// Temporal support added to `Date.prototype`, `TypeError` inheriting from
// `Error`). This records the own properties of every global function and
// of its prototype and what they inherit from, and the own properties of
// the classes Rust defines, so that `restore_shapes.js` can put back whatever
// a snapshot boot lost.
(() => {
  const shapes = [];
  const descriptorsOf = (object, withValues) => {
    const descriptors = Object.getOwnPropertyDescriptors(object);
    if (withValues) return descriptors;
    // The engine cannot serialise references to template-built functions
    // outside their own graph: keep the attributes and primitive values.
    for (const key of Reflect.ownKeys(descriptors)) {
      const d = descriptors[key];
      delete d.get;
      delete d.set;
      if ("value" in d && (typeof d.value === "object" || typeof d.value === "function")) {
        delete d.value;
      }
    }
    return descriptors;
  };
  // What an object inherits from is kept with the values (by reference).
  const record = (target, object, withValues) => {
    const inherits = withValues ? Object.getPrototypeOf(object) : undefined;
    shapes.push([target, descriptorsOf(object, withValues), inherits]);
    const prototype = Object.getOwnPropertyDescriptor(object, "prototype")?.value;
    if (typeof prototype === "object" && prototype !== null) {
      const prototypeTarget = typeof target === "string" ? `${target}.prototype` : prototype;
      const prototypeInherits = withValues ? Object.getPrototypeOf(prototype) : undefined;
      shapes.push([prototypeTarget, descriptorsOf(prototype, withValues), prototypeInherits]);
    }
  };
  for (const key of Reflect.ownKeys(globalThis)) {
    const { value } = Object.getOwnPropertyDescriptor(globalThis, key);
    if (typeof value === "function") record(value, value, true);
  }
  // The classes Rust defines are reached through the ops table (by name);
  // the realm's bootstrap puts them on the global.
  const ops = globalThis.__bootstrap?.core?.ops ?? {};
  for (const key of Object.getOwnPropertyNames(ops)) {
    const { value } = Object.getOwnPropertyDescriptor(ops, key);
    if (!key.startsWith("op_") && typeof value === "function" && Object.hasOwn(value, "prototype")) {
      record(key, value, false);
    }
  }
  Object.defineProperty(globalThis, Symbol.for("swrt.snapshotShapes"), {
    value: shapes,
    configurable: true,
  });
})();

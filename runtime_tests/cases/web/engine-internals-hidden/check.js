// What a script sees when it lists the global object: the web platform and
// its own globals, never the runtime's or the JavaScript engine's internals.
function globalListing() {
  const internal = (key) => /^__|v8x|deno|bootstrap|^op_/i.test(typeof key === "symbol" ? key.description : key);
  const listed = [
    ...Object.getOwnPropertyNames(globalThis),
    ...Object.getOwnPropertySymbols(globalThis),
    ...Reflect.ownKeys(globalThis),
    ...Reflect.ownKeys(Object.getOwnPropertyDescriptors(globalThis)),
  ];
  for (let proto = Object.getPrototypeOf(globalThis); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    listed.push(...Object.getOwnPropertyNames(proto));
  }
  for (const key in globalThis) listed.push(key);
  // The web interfaces' prototypes carry no runtime hooks either.
  for (const name of Object.getOwnPropertyNames(globalThis)) {
    const proto = /^[A-Z]/.test(name) && typeof globalThis[name] === "function" ? globalThis[name].prototype : null;
    if (proto && proto !== Object.prototype && proto !== Function.prototype) listed.push(...Reflect.ownKeys(proto), ...Object.getOwnPropertySymbols(proto));
  }
  const found = [...new Set(listed.filter(internal).map(String))];
  // The script's own globals stay listed.
  const mine = Symbol("mine");
  globalThis[mine] = 1;
  globalThis.__mine = 2;
  const own = Reflect.ownKeys(globalThis);
  const keepsOwn = own.includes(mine) && own.includes("__mine") && Object.getOwnPropertyNames(globalThis).includes("fetch");
  delete globalThis[mine];
  delete globalThis.__mine;
  return [
    found.length ? `internals listed: ${found.join(" ")}` : "no internals listed",
    `own globals listed: ${keepsOwn}`,
    `built-ins work: ${typeof Atomics.waitAsync === "function" && /native code/.test(String(Object.getOwnPropertyNames))}`,
  ].join(", ");
}

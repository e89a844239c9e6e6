// console.* formats like browsers: substitutions, then objects inspected.
console.log("%s has %d items costing %f", "cart", 3, 1.5);
console.log("%i", 42.9);
console.log("%o", { a: [1, 2], nested: { b: "x" } });
console.log("%O", [1, "two"]);
console.log("%c styled", "color: red");
console.log("plain", 1, true, null, undefined, "str");
console.log({ list: [1, 2, 3], map: new Map([["k", 1]]) });
console.info("info line");
console.warn("warn line");
console.error("error", new Error("boom").message);
console.debug("debug line");
console.log("100%");
console.log("%s");
console.log("multi\nline");

// How much function source text an engine that keeps every function's
// source (QuickJS does, for Function.prototype.toString) holds after
// compiling the given files: each function's and class's extent is counted,
// so text nested in several functions counts once per level, as it is
// stored. See "Worker startup and idle memory" in BENCHMARKS.md.
//
//   node bench/function-source.cjs FILE.js...
//
// Parses with acorn, which ESLint's install in crates/swrt_runtime brings.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const acorn = require(path.join(__dirname, "../crates/swrt_runtime/node_modules/acorn"));

function parse(source) {
  const options = { ecmaVersion: "latest", allowReturnOutsideFunction: true, allowHashBang: true };
  try {
    return acorn.parse(source, { ...options, sourceType: "module" });
  } catch {
    return acorn.parse(source, { ...options, sourceType: "script" });
  }
}

let sourceBytes = 0;
let functionSourceBytes = 0;
let functions = 0;
for (const file of process.argv.slice(2)) {
  const source = fs.readFileSync(file, "utf8");
  sourceBytes += source.length;
  const walk = (node) => {
    if (/Function|^Class/.test(node.type)) {
      functionSourceBytes += node.end - node.start;
      functions += 1;
    }
    for (const value of Object.values(node)) {
      for (const child of Array.isArray(value) ? value : [value]) {
        if (child && typeof child.type === "string") walk(child);
      }
    }
  };
  walk(parse(source));
}
console.log(JSON.stringify({ files: process.argv.length - 2, sourceBytes, functionSourceBytes, functions }));

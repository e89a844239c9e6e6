// The IndexedDB benchmark on node with fake-indexeddb (an in-memory
// IndexedDB in JavaScript), installed by bench/indexeddb.sh.
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
const require = createRequire(import.meta.url);
const { indexedDB } = require("./node_modules/fake-indexeddb");
const { idbBenchmark } = require("./indexeddb-ops.js");
await idbBenchmark(indexedDB, () => performance.now(), (line) => console.log(line));

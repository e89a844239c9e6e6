// Node reference for the wake-latency benchmark (bench/wake.sh), the
// counterpart of crates/swrt_runtime/examples/wake_latency.rs.
//
// A cold wake in node is what swrt does for an idle-stopped worker: a new
// isolate on a new thread (a worker_threads Worker), its script evaluated,
// one message handled and answered. A warm event is one more message to
// the running Worker. Prints
//   {"runs":N,"cold_p50_ms":..,"cold_p99_ms":..,"warm_p50_ms":..,"warm_p99_ms":..}
//
// Usage: node bench/node_wake.mjs [--runs N]

import { Worker } from "node:worker_threads";

const SCRIPT = `
const { parentPort } = require("node:worker_threads");
let messages = 0;
parentPort.on("message", (data) => {
  messages += 1;
  if (data.cold && messages !== 1) throw new Error("not a cold start");
  parentPort.postMessage("done");
});
`;

function parseArgs(argv) {
  const args = { runs: 100 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--runs" && i + 1 < argv.length) args.runs = Number.parseInt(argv[++i], 10);
    else throw new Error(`unknown argument ${argv[i]}; usage: node_wake.mjs [--runs N]`);
  }
  if (!(args.runs >= 1)) throw new Error("--runs must be at least 1");
  return args;
}

function message(worker, data) {
  return new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.postMessage(data);
  });
}

function quantile(sorted, q) {
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

const { runs } = parseArgs(process.argv.slice(2));
const cold = [];
const warm = [];
for (let i = 0; i < runs; i++) {
  let started = performance.now();
  const worker = new Worker(SCRIPT, { eval: true });
  await message(worker, { cold: true });
  cold.push(performance.now() - started);
  started = performance.now();
  await message(worker, { cold: false });
  warm.push(performance.now() - started);
  await worker.terminate();
}
cold.sort((a, b) => a - b);
warm.sort((a, b) => a - b);
console.log(JSON.stringify({
  runs,
  cold_p50_ms: Number(quantile(cold, 0.5).toFixed(2)),
  cold_p99_ms: Number(quantile(cold, 0.99).toFixed(2)),
  warm_p50_ms: Number(quantile(warm, 0.5).toFixed(3)),
  warm_p99_ms: Number(quantile(warm, 0.99).toFixed(3)),
}));

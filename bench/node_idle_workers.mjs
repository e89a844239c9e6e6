// Node reference for the idle-memory benchmark (bench/run.sh), the
// counterpart of crates/swrt_runtime/examples/idle_workers.rs.
//
// Starts N worker_threads Workers (each with its own V8 isolate and thread,
// as swrt gives each service worker its own isolate and thread), each running
// the same trivial script: install/activate/message listeners and a little
// state. Waits until all are activated, checks each with a message, lets them
// sit idle, and prints
//   {"workers":N,"rss_before_kib":..,"rss_after_kib":..,"per_worker_kib":..}
// RSS is VmRSS from /proc/self/status, the same source the Rust example reads.
//
// Usage: node bench/node_idle_workers.mjs [--workers N] [--idle-ms MS]

import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";

function parseArgs(argv) {
  const args = { workers: 100, idleMs: 2000 };
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
      return Number.parseInt(argv[++i], 10);
    };
    if (argv[i] === "--workers") args.workers = value();
    else if (argv[i] === "--idle-ms") args.idleMs = value();
    else throw new Error(`unknown argument ${argv[i]}; usage: node_idle_workers.mjs [--workers N] [--idle-ms MS]`);
  }
  if (!(args.workers >= 1)) throw new Error("--workers must be at least 1");
  if (!(args.idleMs >= 0)) throw new Error("--idle-ms must be a number");
  return args;
}

function rssKib() {
  const line = readFileSync("/proc/self/status", "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  return Number.parseInt(line.slice("VmRSS:".length), 10);
}

// The per-worker script. The first part is the service worker itself, the
// same as the Rust example's; the rest stands in for the host (dispatching
// install/activate and relaying messages), which swrt does in Rust.
const SCRIPT = String.raw`
const { parentPort, workerData } = require("node:worker_threads");

class ExtendableEvent extends Event {
  #pending = [];
  waitUntil(promise) { this.#pending.push(promise); }
  lifetime() { return Promise.all(this.#pending); }
}
class ExtendableMessageEvent extends ExtendableEvent {
  constructor(type, init) { super(type); this.data = init.data; }
}
const self = new EventTarget();

// --- the service worker ---
const state = { id: workerData.id, installed: false, activated: false, messages: 0, seen: new Map() };
self.addEventListener("install", (event) => {
  event.waitUntil(Promise.resolve().then(() => { state.installed = true; }));
});
self.addEventListener("activate", () => {
  if (!state.installed) throw new Error("activate before install finished");
  state.activated = true;
});
self.addEventListener("message", (event) => {
  state.messages += 1;
  state.seen.set(state.messages, event.data);
  if (!state.activated) throw new Error("message before activate");
  if (event.data.id !== state.id) throw new Error("wrong worker");
  if (state.messages !== event.data.expect) throw new Error("state lost");
});

// --- the host side ---
// EventTarget reports listener exceptions as uncaught errors rather than
// throwing from dispatchEvent; catch them so a failed event is reported.
let failure = null;
process.on("uncaughtException", (e) => { failure = e; });
async function dispatch(event) {
  failure = null;
  self.dispatchEvent(event);
  await event.lifetime();
  // Listener exceptions surface on the next turn.
  await new Promise((resolve) => setImmediate(resolve));
  if (failure) throw failure;
}
(async () => {
  await dispatch(new ExtendableEvent("install"));
  await dispatch(new ExtendableEvent("activate"));
  parentPort.on("message", async (data) => {
    try {
      await dispatch(new ExtendableMessageEvent("message", { data }));
      parentPort.postMessage({ ok: true });
    } catch (e) {
      parentPort.postMessage({ ok: false, error: String(e) });
    }
  });
  parentPort.postMessage({ activated: true });
})().catch((e) => parentPort.postMessage({ activated: false, error: String(e) }));
`;

function nextMessage(worker) {
  return new Promise((resolve, reject) => {
    const onMessage = (m) => { cleanup(); resolve(m); };
    const onError = (e) => { cleanup(); reject(e); };
    const cleanup = () => { worker.off("message", onMessage); worker.off("error", onError); };
    worker.on("message", onMessage);
    worker.on("error", onError);
  });
}

async function check(worker, id, expect) {
  const reply = nextMessage(worker);
  worker.postMessage({ id, expect });
  const m = await reply;
  if (!m.ok) throw new Error(`worker ${id}: message ${expect} failed: ${m.error}`);
}

const args = parseArgs(process.argv.slice(2));
// Baseline: Node itself is up, no worker exists.
const rssBefore = rssKib();

const workers = [];
const activated = [];
for (let id = 0; id < args.workers; id++) {
  const worker = new Worker(SCRIPT, { eval: true, workerData: { id } });
  workers.push(worker);
  activated.push(nextMessage(worker).then((m) => {
    if (!m.activated) throw new Error(`worker ${id} failed to activate: ${m.error}`);
  }));
}
await Promise.all(activated);
for (let id = 0; id < workers.length; id++) await check(workers[id], id, 1);

// Idle, then measure.
await new Promise((resolve) => setTimeout(resolve, args.idleMs));
const rssAfter = rssKib();

// Still the same isolates, state intact.
for (let id = 0; id < workers.length; id++) await check(workers[id], id, 2);
await Promise.all(workers.map((w) => w.terminate()));

const perWorker = Math.max(0, rssAfter - rssBefore) / args.workers;
console.log(
  `{"workers":${args.workers},"rss_before_kib":${rssBefore},"rss_after_kib":${rssAfter},"per_worker_kib":${perWorker.toFixed(1)}}`
);

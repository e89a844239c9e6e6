#!/usr/bin/env bash
# Worker startup and idle memory benchmark (see BENCHMARKS.md).
#
#   bash bench/run.sh [--runs N] [--mem-runs N] [--workers N]
#
# (a) startup: wall time from process start to exit for `swrt run
#     bench/trivial-sw.js` (exits once `activate` has been handled) and for
#     `node bench/trivial-node.mjs` (the same listeners, dispatched by the
#     script itself), median of --runs runs (default 30), with hyperfine when
#     available and a python3 perf_counter loop otherwise.
# (b) memory: resident memory per idle worker with --workers workers (default
#     100) in one process, swrt (crates/swrt_runtime/examples/idle_workers.rs)
#     against node worker_threads (bench/node_idle_workers.mjs), median of
#     --mem-runs runs (default 5).
#
# Prints the machine, the raw measurements and a markdown table. Nothing here
# talks to the network except installing hyperfine through apt when missing.
set -euo pipefail

runs=30
mem_runs=5
workers=100
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --mem-runs) mem_runs="$2"; shift 2 ;;
    --workers) workers="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
command -v node >/dev/null || { echo "run.sh: node is required as the reference" >&2; exit 2; }
command -v python3 >/dev/null || { echo "run.sh: python3 is required" >&2; exit 2; }

# hyperfine gives warmup and outlier reporting; install it once if we can.
if ! command -v hyperfine >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "run.sh: installing hyperfine" >&2
  apt-get install -y hyperfine >/dev/null 2>&1 \
    || { apt-get update >/dev/null 2>&1 && apt-get install -y hyperfine >/dev/null 2>&1; } \
    || echo "run.sh: could not install hyperfine; timing with python3 instead" >&2
fi

echo "run.sh: building release" >&2
# --bin and --example select targets, so name both: with only --example,
# cargo would not build the swrt binary.
cargo build --release --quiet -p swrt --bin swrt -p swrt_runtime --example idle_workers
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
swrt="$target_dir/release/swrt"
idle_workers="$target_dir/release/examples/idle_workers"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Both startup commands must really reach activate, or the timing is meaningless.
for cmd in "$swrt run bench/trivial-sw.js" "node bench/trivial-node.mjs"; do
  out="$($cmd 2>"$tmp/stderr")" || { cat "$tmp/stderr" >&2; echo "run.sh: '$cmd' failed" >&2; exit 1; }
  [ "$out" = "activated" ] || { echo "run.sh: '$cmd' printed '$out', expected 'activated'" >&2; exit 1; }
done

# Prints "median min max" in milliseconds for one command.
time_command() {
  local name="$1"; shift
  if command -v hyperfine >/dev/null; then
    # -N: no intermediate shell, so its startup is not part of the number.
    hyperfine --style none --warmup 3 --runs "$runs" -N \
      --export-json "$tmp/$name.json" "$*" >&2
    python3 - "$tmp/$name.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"{r['median']*1e3:.1f} {r['min']*1e3:.1f} {r['max']*1e3:.1f}")
PY
  else
    python3 - "$runs" "$@" <<'PY'
import statistics, subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
for _ in range(3):  # warm the page cache, as hyperfine --warmup does
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
times = []
for _ in range(runs):
    start = time.perf_counter_ns()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    times.append((time.perf_counter_ns() - start) / 1e6)
print(f"{statistics.median(times):.1f} {min(times):.1f} {max(times):.1f}")
PY
  fi
}

echo "run.sh: startup, $runs runs each" >&2
read -r swrt_ms swrt_min swrt_max < <(time_command swrt "$swrt" run bench/trivial-sw.js)
read -r node_ms node_min node_max < <(time_command node node bench/trivial-node.mjs)

# Runs a memory program --mem-runs times; prints each JSON line to stderr and
# "median min max" of per_worker_kib to stdout.
memory() {
  local i
  for ((i = 0; i < mem_runs; i++)); do
    # Echo to stderr through the shell's own fd: `tee /dev/stderr` would
    # reopen (and truncate) stderr when it is redirected to a file.
    "$@" --workers "$workers" | while IFS= read -r line; do echo "$line" >&2; echo "$line"; done
  done | python3 -c '
import json, statistics, sys
v = [json.loads(line)["per_worker_kib"] for line in sys.stdin if line.strip()]
print(f"{statistics.median(v):.0f} {min(v):.0f} {max(v):.0f}")'
}

echo "run.sh: idle memory, $workers workers, $mem_runs runs each" >&2
read -r swrt_kib swrt_kib_min swrt_kib_max < <(memory "$idle_workers")
read -r node_kib node_kib_min node_kib_max < <(memory node bench/node_idle_workers.mjs)

ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }
timer="python3 perf_counter loop"
command -v hyperfine >/dev/null && timer="$(hyperfine --version)"

cat <<EOF

### Machine

- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), nproc $(nproc)
- Memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo); kernel $(uname -r)
- swrt: release build, engine QuickJS via deno_core 0.413; $(rustc --version)
- node: $(node --version) (V8)
- Timer: $timer
- Source: commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo " with uncommitted changes")
- Load average before the run: $load_before (other work on the machine inflates wall times)

### Results

| Measure | swrt | node | swrt / node |
|---|---:|---:|---:|
| Process start to \`activate\` handled, trivial worker (ms, median of $runs; min–max) | $swrt_ms ($swrt_min–$swrt_max) | $node_ms ($node_min–$node_max) | $(ratio "$swrt_ms" "$node_ms") |
| Resident memory per idle worker, $workers workers in one process (KiB, median of $mem_runs; min–max) | $swrt_kib ($swrt_kib_min–$swrt_kib_max) | $node_kib ($node_kib_min–$node_kib_max) | $(ratio "$swrt_kib" "$node_kib") |
EOF

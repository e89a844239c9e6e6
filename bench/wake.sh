#!/usr/bin/env bash
# Wake latency of an idle-stopped worker (see BENCHMARKS.md).
#
#   bash bench/wake.sh [--runs N] [--repeat N]
#
# swrt: crates/swrt_runtime/examples/wake_latency.rs (the host `swrt serve`
# runs its workers in) times an event to a worker the host stopped when it
# went idle, and an event to the running worker; once with a prewarmed
# realm ready, as `swrt serve` keeps one, and once without. Reference, in the same
# invocation: bench/node_wake.mjs, a new worker_threads Worker answering one
# message, then a second message. --runs events each (default 200), the
# whole pair --repeat times (default 3), interleaved. Uses no network.
set -euo pipefail

runs=200
repeat=3
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "wake.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."
command -v node >/dev/null || { echo "wake.sh: node is required as the reference" >&2; exit 2; }
echo "wake.sh: building release" >&2
cargo build --release --quiet -p swrt_runtime --example wake_latency
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
wake="$target_dir/release/examples/wake_latency"

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), node $(node --version), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "| run | swrt cold p50 | swrt cold p99 | swrt without prewarm, cold p50 | p99 | node cold p50 | p99 | swrt warm p50 | node warm p50 |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for i in $(seq 1 "$repeat"); do
  s="$("$wake" --runs "$runs")"
  c="$("$wake" --runs "$runs" --no-prewarm)"
  n="$(node bench/node_wake.mjs --runs "$runs")"
  python3 - "$i" "$s" "$c" "$n" <<'PY'
import json, sys
i = sys.argv[1]
s, c, n = (json.loads(a) for a in sys.argv[2:5])
print(f"| {i} | {s['cold_p50_ms']:.1f} | {s['cold_p99_ms']:.1f} | {c['cold_p50_ms']:.1f} | {c['cold_p99_ms']:.1f} "
      f"| {n['cold_p50_ms']:.1f} | {n['cold_p99_ms']:.1f} | {s['warm_p50_ms']:.2f} | {n['warm_p50_ms']:.2f} |")
PY
done

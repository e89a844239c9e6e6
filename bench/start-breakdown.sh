#!/usr/bin/env bash
# Where a worker's start goes: `swrt run bench/trivial-sw.js` (install and
# activate, one line) broken down two ways, with `node bench/trivial-node.mjs`
# timed in the same run as the reference.
#
#   bash bench/start-breakdown.sh [--runs N]
#
# 1. Phases, from the realm's own debug log (RUST_LOG=swrt_runtime::realm=
#    debug): creating the engine with its extensions (QuickJS runtime and
#    context, deno_core's ops and JavaScript, and the platform JavaScript
#    the extension entry point loads), bootstrapping the global scope, and
#    evaluating the worker's script; the rest of the process is the
#    remainder of the wall time (the origin server, registration and the
#    lifecycle, process start and exit).
# 2. CPU samples from `perf record` over the same runs, grouped by what the
#    symbol does: QuickJS's parser and compiler, its garbage collector and
#    memory accounting, the interpreter, the kernel, the rest. Skipped with a
#    message when perf is missing or not permitted.
#
# Prints medians as markdown tables. Nothing here talks to the network.
set -euo pipefail
runs=20
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "start-breakdown.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
command -v node >/dev/null || { echo "start-breakdown.sh: node is required as the reference" >&2; exit 2; }
echo "start-breakdown.sh: building release" >&2
cargo build --release --quiet -p swrt --bin swrt
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
swrt="$target_dir/release/swrt"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "start-breakdown.sh: $runs runs" >&2
for ((i = 0; i < runs; i++)); do
  start=$(date +%s%N)
  RUST_LOG=swrt_runtime::realm=debug NO_COLOR=1 "$swrt" run bench/trivial-sw.js >/dev/null 2>"$tmp/log"
  end=$(date +%s%N)
  echo "$(( (end - start) / 1000 ))" >> "$tmp/wall_us"
  start=$(date +%s%N)
  node bench/trivial-node.mjs >/dev/null
  end=$(date +%s%N)
  echo "$(( (end - start) / 1000 ))" >> "$tmp/node_us"
  # The realm's phase lines: engine_ms=, bootstrap_ms=, and the evaluation's ms=.
  sed -E 's/\x1b\[[0-9;]*m//g' "$tmp/log" | python3 -c '
import re, sys
text = sys.stdin.read()
def grab(pattern):
    m = re.search(pattern, text)
    return m.group(1) if m else "nan"
print(grab(r"engine_ms=([0-9.]+)"), grab(r"bootstrap_ms=([0-9.]+)"),
      grab(r"worker script evaluated.*?ms=([0-9.]+)"))' >> "$tmp/phases"
done

python3 - "$tmp" <<'PY'
import statistics, sys
tmp = sys.argv[1]
def med(values):
    return statistics.median(values)
wall = med([int(l) / 1000 for l in open(f"{tmp}/wall_us")])
node = med([int(l) / 1000 for l in open(f"{tmp}/node_us")])
rows = [l.split() for l in open(f"{tmp}/phases")]
engine = med([float(r[0]) for r in rows])
bootstrap = med([float(r[1]) for r in rows])
evaluate = med([float(r[2]) for r in rows])
rest = wall - engine - bootstrap - evaluate
print()
print("| phase (median) | ms |")
print("|---|---|")
print(f"| engine with its extensions and platform JavaScript | {engine:.1f} |")
print(f"| global scope bootstrap | {bootstrap:.1f} |")
print(f"| worker script evaluation | {evaluate:.1f} |")
print(f"| rest of the process (start, origin server, registration, lifecycle, exit) | {rest:.1f} |")
print(f"| **swrt run, whole process** | **{wall:.1f}** |")
print(f"| node bench/trivial-node.mjs, whole process | {node:.1f} |")
PY

if ! command -v perf >/dev/null; then
  echo; echo "perf is not installed: no CPU breakdown (apt-get install linux-perf)"; exit 0
fi
if ! perf record -q -F 4999 -o "$tmp/perf.data" -- "$swrt" run bench/trivial-sw.js >/dev/null 2>"$tmp/perf.err"; then
  echo; echo "perf record failed ($(head -1 "$tmp/perf.err")): no CPU breakdown"; exit 0
fi
for ((i = 1; i < runs; i++)); do
  perf record -q -F 4999 -o "$tmp/perf.$i.data" -- "$swrt" run bench/trivial-sw.js >/dev/null 2>&1
done
for f in "$tmp"/perf*.data; do
  perf report -i "$f" --no-children --sort sym --stdio 2>/dev/null | grep -E '^ +[0-9.]+%'
done | python3 -c '
import re, sys, collections
groups = [
    ("kernel", r"\[k\]"),
    ("QuickJS parser and compiler", r"js_parse|next_token|parse_ident|skip_parens|resolve_labels|resolve_variables|js_create_function|__JS_FindAtom|__JS_NewAtom|ident_realloc|emit_|push_scope|add_var|add_arg|skip_shebang|js_new_function_def|free_function_def|cpool_add|update_label|new_label|js_parse_template"),
    ("QuickJS garbage collector and memory accounting", r"gc_|JS_RunGC|mark_children|_mark|free_gc_object|JS_ComputeMemoryUsage|free_object|js_free_shape|__JS_FreeValueRT"),
    ("QuickJS interpreter and built-ins", r"JS_CallInternal|js_call|JS_Call|JS_GetPropertyInternal|JS_DefineProperty|js_closure|JS_SetPropertyInternal|find_own_property|add_property|js_create_shape|js_array|js_regexp|lre_|js_string|JS_NewAtom|JS_ToString|js_object|js_function"),
    ("allocator (malloc, realloc, memmove)", r"malloc|realloc|free|memmove|memcpy|memset|js_arena"),
]
totals = collections.Counter()
files = 0
for line in sys.stdin:
    m = re.match(r"\s+([0-9.]+)%\s+(.*)", line)
    if not m:
        continue
    pct, sym = float(m.group(1)), m.group(2)
    for name, pattern in groups:
        if re.search(pattern, sym):
            totals[name] += pct
            break
    else:
        totals["everything else (Rust, deno_core, tokio, libc)"] += pct
total = sum(totals.values())
print()
print("| CPU samples of `swrt run`, by kind | share |")
print("|---|---|")
for name, _ in groups + [("everything else (Rust, deno_core, tokio, libc)", None)]:
    print(f"| {name} | {100 * totals[name] / total:.0f} % |")
'
echo
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $runs runs"

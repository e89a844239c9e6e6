#!/usr/bin/env bash
# IndexedDB benchmark: 10,000 small puts in one transaction, 10,000 gets in
# one transaction and a cursor over 10,000 records, in a swrt page (with a
# data dir, so commits reach SQLite), in headless Chromium on the same page
# in the same run, and on node with fake-indexeddb (in memory).
#
#   bash bench/indexeddb.sh [--runs N] [--swrt PATH]
#
# Prints medians as a markdown table, and swrt's and node's peak resident
# memory (GNU time) for the whole run. --swrt uses that binary instead of
# building a release one. Everything is served on loopback.
set -euo pipefail
runs=5
swrt=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --swrt) swrt="$(realpath "$2")"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "indexeddb.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || { apt-get install -y time >/dev/null 2>&1 || { echo "indexeddb.sh: GNU time (/usr/bin/time) is required" >&2; exit 2; }; }
if [ -z "$swrt" ]; then
  echo "indexeddb.sh: building release" >&2
  cargo build --release --quiet -p swrt --bin swrt
  target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
  swrt="$target_dir/release/swrt"
fi
if [ ! -f bench/node_modules/fake-indexeddb/package.json ]; then
  echo "indexeddb.sh: installing npm fake-indexeddb into bench/node_modules" >&2
  npm install --prefix bench --no-save --no-audit --no-fund --ignore-scripts --loglevel=error fake-indexeddb@6.2.8 >/dev/null
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/site"
cp bench/indexeddb-ops.js "$tmp/site/ops.js"
cat > "$tmp/site/idb.html" <<'HTML'
<!doctype html><html><head><meta charset=utf-8><title>idb bench</title>
<script src="ops.js"></script></head><body><script>
idbBenchmark(indexedDB, () => performance.now(), (line) => console.log(line))
  .catch((e) => console.log("failed " + e));
</script></body></html>
HTML

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
measures="puts gets cursor"
for m in $measures; do : > "$tmp/swrt.$m"; : > "$tmp/chrome.$m"; : > "$tmp/node.$m"; done
: > "$tmp/swrt.rss"; : > "$tmp/node.rss"
chromium=no
[ -x /usr/bin/chromium ] && [ -d crates/swrt/tests/dashboard/node_modules/playwright-core ] && chromium=yes
for ((i = 0; i < runs; i++)); do
  rm -rf "$tmp/data"
  /usr/bin/time -f "%M" -o "$tmp/rss" "$swrt" run --data-dir "$tmp/data" --root "$tmp/site" --client idb.html > "$tmp/out"
  grep -q '^done$' "$tmp/out" || { echo "indexeddb.sh: swrt did not finish" >&2; cat "$tmp/out" >&2; exit 1; }
  cat "$tmp/rss" >> "$tmp/swrt.rss"
  for m in $measures; do sed -n "s/^$m //p" "$tmp/out" >> "$tmp/swrt.$m"; done
  /usr/bin/time -f "%M" -o "$tmp/rss" node bench/indexeddb-node.mjs > "$tmp/out"
  cat "$tmp/rss" >> "$tmp/node.rss"
  for m in $measures; do sed -n "s/^$m //p" "$tmp/out" >> "$tmp/node.$m"; done
  if [ "$chromium" = yes ]; then
    node crates/swrt/tests/chromium/console.mjs "$tmp/site" idb.html 4 > "$tmp/out"
    for m in $measures; do sed -n "s/^$m //p" "$tmp/out" >> "$tmp/chrome.$m"; done
  fi
done
value() { [ -s "$1" ] && median < "$1" || echo n/a; }
echo
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $runs runs, medians"
echo
echo "| measure (ms) | swrt | Chromium | node + fake-indexeddb |"
echo "|---|---|---|---|"
echo "| 10,000 puts in one transaction, to complete | $(value "$tmp/swrt.puts") | $(value "$tmp/chrome.puts") | $(value "$tmp/node.puts") |"
echo "| 10,000 gets in one transaction | $(value "$tmp/swrt.gets") | $(value "$tmp/chrome.gets") | $(value "$tmp/node.gets") |"
echo "| a cursor over 10,000 records | $(value "$tmp/swrt.cursor") | $(value "$tmp/chrome.cursor") | $(value "$tmp/node.cursor") |"
echo "| peak memory of the whole run (MiB) | $(python3 -c "print(round($(value "$tmp/swrt.rss")/1024, 1))") | not measured | $(python3 -c "print(round($(value "$tmp/node.rss")/1024, 1))") |"

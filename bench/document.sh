#!/usr/bin/env bash
# HTML document benchmark: loading a page of 1,000 elements and 10 scripts,
# and the cost of an iframe and of a dedicated worker, in swrt against
# headless Chromium on the same pages in the same run.
#
#   bash bench/document.sh [--runs N]
#
# Each page prints performance.now() at its load event (the workers page:
# once its 10 workers have answered), the time since the realm's time
# origin: in swrt the page realm's start, in Chromium the navigation's
# start. swrt's peak resident memory comes from GNU time; the
# baselines (an empty page, a page without iframes) are subtracted so the
# figures are what the document itself costs. Prints medians as a markdown
# table. Everything is served on loopback.
set -euo pipefail
runs=10
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "document.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || { apt-get install -y time >/dev/null 2>&1 || { echo "document.sh: GNU time (/usr/bin/time) is required" >&2; exit 2; }; }
echo "document.sh: building release" >&2
cargo build --release --quiet -p swrt --bin swrt
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
swrt="$target_dir/release/swrt"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 bench/document-page.py "$tmp/site"

# swrt: load time (ms) and peak RSS (KiB) of one run of a page.
swrt_once() {
  /usr/bin/time -f "%M" -o "$tmp/rss" "$swrt" run --root "$tmp/site" --client "$1" > "$tmp/out"
  local load
  load="$(sed -n 's/^load //p' "$tmp/out")"
  [ -n "$load" ] || { echo "document.sh: $1 printed no load time" >&2; cat "$tmp/out" >&2; exit 1; }
  echo "$load $(cat "$tmp/rss")"
}

chromium_once() {
  node crates/swrt/tests/chromium/console.mjs "$tmp/site" "$1" 1 | sed -n 's/^load //p'
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

declare -A load rss chrome
pages="big empty frames noframes workers fetches"
for p in $pages; do
  : > "$tmp/$p.load"; : > "$tmp/$p.rss"; : > "$tmp/$p.chrome"
done
for ((i = 0; i < runs; i++)); do
  for p in $pages; do
    read -r l r < <(swrt_once "$p.html")
    echo "$l" >> "$tmp/$p.load"; echo "$r" >> "$tmp/$p.rss"
    if [ -x /usr/bin/chromium ] && [ -d crates/swrt/tests/dashboard/node_modules/playwright-core ]; then
      chromium_once "$p.html" >> "$tmp/$p.chrome"
    fi
  done
done
for p in $pages; do
  load[$p]="$(median < "$tmp/$p.load")"
  rss[$p]="$(median < "$tmp/$p.rss")"
  chrome[$p]="$( [ -s "$tmp/$p.chrome" ] && median < "$tmp/$p.chrome" || echo n/a)"
done
diff() { python3 -c "import sys; a,b,d=sys.argv[1:]; print('n/a' if 'n/a' in (a,b) else f'{(float(a)-float(b))/float(d):.2f}')" "$1" "$2" "$3"; }
echo
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $runs runs, medians"
echo
echo "| measure | swrt | Chromium |"
echo "|---|---|---|"
echo "| empty page: time origin to load (ms) | ${load[empty]} | ${chrome[empty]} |"
echo "| 1,000 elements + 10 scripts: time origin to load (ms) | ${load[big]} | ${chrome[big]} |"
echo "| 1,000 elements + 10 scripts, beyond the empty page (ms) | $(diff "${load[big]}" "${load[empty]}" 1) | $(diff "${chrome[big]}" "${chrome[empty]}" 1) |"
echo "| 1,000 elements + 10 scripts, memory beyond the empty page (MiB) | $(diff "${rss[big]}" "${rss[empty]}" 1024) | not measured |"
echo "| per iframe: time to load (ms) | $(diff "${load[frames]}" "${load[noframes]}" 10) | $(diff "${chrome[frames]}" "${chrome[noframes]}" 10) |"
echo "| per iframe: memory (MiB) | $(diff "${rss[frames]}" "${rss[noframes]}" 10240) | not measured |"
echo "| per dedicated worker: start and answer a message (ms) | $(diff "${load[workers]}" "${load[noframes]}" 10) | $(diff "${chrome[workers]}" "${chrome[noframes]}" 10) |"
echo "| per dedicated worker: memory (MiB) | $(diff "${rss[workers]}" "${rss[noframes]}" 10240) | not measured |"
echo "| 10 small files read one after another with fetch() and text() (ms) | ${load[fetches]} | ${chrome[fetches]} |"

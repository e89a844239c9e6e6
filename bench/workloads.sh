#!/usr/bin/env bash
# Whole-process Background Fetch workloads against curl (see BENCHMARKS.md).
#
#   bash bench/workloads.sh [--runs N] [--large]
#
# Four workloads, each downloaded from one loopback HTTP/1.1 file server
# (bench/workloads-server.py, the same for both tools): one 256 MiB body,
# one 512 MiB body, 200 x 16 KiB and 2,000 x 16 KiB (--large adds one
# 1 GiB body). swrt: `swrt run` of a service worker that starts one
# background fetch of the workload in `activate` and exits after its success
# event (which takes the records with matchAll()); timed from process start
# to exit, and from fetch() to the event as the worker reports it. Reference in the same run: curl writing the same
# files (`--parallel --parallel-max 16`, swrt's per-host cap), timed alone
# and followed by `sync` (swrt makes every body durable before its event).
# Interleaved, alternating which tool goes first; medians of --runs
# (default 5). The most connections the server had open at once during
# each tool's run, how many it opened in all, and each process's peak
# resident memory (wait4) are reported too.
# Uses no network beyond 127.0.0.1.
set -euo pipefail

runs=5
large=0
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --large) large=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "workloads.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."
command -v curl >/dev/null || { echo "workloads.sh: curl is required as the reference" >&2; exit 2; }
echo "workloads.sh: building release" >&2
cargo build --release --quiet -p swrt
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
swrt="$target_dir/release/swrt"

work="$(mktemp -d)"
trap 'kill "$server_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
files="$work/files"
mkdir -p "$files/small"
head -c $((256 << 20)) /dev/urandom > "$files/b256"
head -c $((512 << 20)) /dev/urandom > "$files/b512"
[ "$large" = 1 ] && head -c $((1024 << 20)) /dev/urandom > "$files/b1024"
for i in $(seq 0 1999); do head -c 16384 /dev/urandom > "$files/small/$i"; done

python3 bench/workloads-server.py "$files" > "$work/port" 2> "$work/server.log" &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
port="$(head -1 "$work/port")"
origin="http://127.0.0.1:$port"

workloads=("256MiB:b256" "512MiB:b512" "200x16KiB:small:200" "2000x16KiB:small:2000")
[ "$large" = 1 ] && workloads+=("1GiB:b1024")

python3 - "$swrt" "$origin" "$work" "$runs" "${workloads[@]}" <<'PY'
import json, os, shutil, statistics, subprocess, sys, tempfile, time, urllib.request
swrt, origin, work, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
workloads = [w.split(":", 1) for w in sys.argv[5:]]

def paths(spec):
    if spec.startswith("small:"):
        return [f"/small/{i}" for i in range(int(spec.split(":")[1]))]
    return [f"/{spec}"]

def timed(argv):
    """Run argv; (wall seconds, exit status, stdout, stderr, peak RSS of that
    process in MiB, from wait4)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t = time.perf_counter()
        child = subprocess.Popen(argv, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - t
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return wall, child.returncode, out.read(), err.read(), usage.ru_maxrss / 1024

def run_swrt(name, spec):
    d = os.path.join(work, "swrt")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    with open(os.path.join(d, "sw.js"), "w") as f:
        f.write("const URLS = %s;\n" % json.dumps(paths(spec)))
        f.write("""let started = 0;
self.addEventListener("activate", (event) => {
  started = Date.now();
  event.waitUntil(self.registration.backgroundFetch.fetch("workload", URLS));
});
self.addEventListener("backgroundfetchsuccess", (event) => {
  console.log("fetch-to-event-ms", Date.now() - started);
  // As a worker would: take the records (their bodies are not read).
  event.waitUntil(event.registration.matchAll().then((records) => {
    if (records.length !== URLS.length) throw new Error("records " + records.length);
  }));
});
self.addEventListener("backgroundfetchfail", (event) => {
  console.log("failed", event.registration.failureReason);
});
""")
    wall, status, stdout, stderr, rss = timed([swrt, "run", "--origin", origin, "--data-dir",
                                               os.path.join(d, "data"), "--timeout", "600",
                                               os.path.join(d, "sw.js")])
    if status != 0 or "fetch-to-event-ms" not in stdout:
        sys.exit(f"swrt failed on {name}: {stdout}\n{stderr}")
    event = int(stdout.split("fetch-to-event-ms")[1].split()[0]) / 1000
    shutil.rmtree(d, ignore_errors=True)
    return wall, event, rss

def run_curl(name, spec):
    d = os.path.join(work, "curl")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    config = os.path.join(work, "curl.cfg")
    with open(config, "w") as f:
        for i, p in enumerate(paths(spec)):
            f.write(f'url = "{origin}{p}"\noutput = "{d}/{i}"\n')
    t = time.perf_counter()
    alone, status, _, stderr, rss = timed(["curl", "--no-progress-meter", "--fail", "--parallel",
                                           "--parallel-max", "16", "-K", config])
    if status != 0:
        sys.exit(f"curl failed on {name}: {stderr}")
    subprocess.run(["sync", "-f", d], check=True)
    synced = time.perf_counter() - t
    shutil.rmtree(d, ignore_errors=True)
    return alone, synced, rss

def peak_connections():
    """(most open at once, opened in all) since the last call."""
    with urllib.request.urlopen(origin + "/__peak") as response:
        at_once, opened = response.read().split()
        return int(at_once), int(opened)

results = {}
peaks = {}
peak_connections()
for r in range(runs):
    for name, spec in workloads:
        order = [("swrt", run_swrt), ("curl", run_curl)]
        if r % 2:
            order.reverse()
        for tool, fn in order:
            a, b, rss = fn(name, spec)
            at_once, opened = peak_connections()
            results.setdefault((name, tool), []).append((a, b, rss))
            old = peaks.get((name, tool), (0, 0))
            peaks[(name, tool)] = (max(old[0], at_once), max(old[1], opened))
            print(f"run {r} {name:>11} {tool}: {a:.3f} s / {b:.3f} s, {at_once} connections at once, {opened} opened, peak RSS {rss:.1f} MiB", file=sys.stderr)

print("| workload | curl to files (s) | curl + sync (s) | swrt fetch() to event (s) | swrt whole process (s) | whole process / curl + sync | connections at once, opened (curl / swrt) | peak RSS, MiB (curl / swrt) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for name, _ in workloads:
    c = results[(name, "curl")]
    s = results[(name, "swrt")]
    curl_alone = statistics.median(x[0] for x in c)
    curl_sync = statistics.median(x[1] for x in c)
    swrt_wall = statistics.median(x[0] for x in s)
    swrt_event = statistics.median(x[1] for x in s)
    print(f"| {name} | {curl_alone:.3f} | {curl_sync:.3f} | {swrt_event:.3f} | {swrt_wall:.3f} | {swrt_wall / curl_sync:.2f} | {peaks[(name, 'curl')][0]}, {peaks[(name, 'curl')][1]} / {peaks[(name, 'swrt')][0]}, {peaks[(name, 'swrt')][1]} | {statistics.median(x[2] for x in c):.1f} / {statistics.median(x[2] for x in s):.1f} |")
PY
kill "$server_pid"
wait "$server_pid" 2>/dev/null || true

#!/usr/bin/env bash
# The fleet benchmark (see BENCHMARKS.md):
#
#   bash bench/fleet.sh
#
# Aggregate throughput of 30 background fetches of 8 MiB (six loopback
# origins, five fetches each) through one `swrt serve` on the embedded
# store (SQLite and files in its data dir) and through fleets of 1, 2 and 3
# nodes sharing a PostgreSQL cluster and moto's S3 server, all on this
# machine; then, three times, the time from SIGKILL of the node running a
# throttled 64 MiB download to the resumed download's first request from
# another node (leases of 3 s). Uses no network beyond loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
cargo test -q -p swrt --test serve_fleet -- --ignored --nocapture fleet_benchmark 2>&1 |
  grep -E '^\|'

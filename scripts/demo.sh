#!/usr/bin/env bash
# Builds swrt and runs `swrt demo`: a sample podcast site whose page
# downloads three episodes with Background Fetch, with live progress.
# Run it again to see the episodes answered from the cache; interrupt it
# with Ctrl-C and run it again to see the downloads resume.
# Extra arguments go to `swrt demo` (e.g. --fresh, --rate 8, --data-dir DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo build -p swrt --quiet
exec target/debug/swrt demo "$@"

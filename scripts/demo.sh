#!/usr/bin/env bash
# Builds swrt and runs the example service worker in examples/hello.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo build -p swrt --quiet
exec target/debug/swrt run --root examples/hello sw.js "$@"

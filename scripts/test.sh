#!/usr/bin/env bash
# The whole test suite: formatting, lints (Rust, and ESLint over the realms'
# JavaScript), unit tests, host tests and the end-to-end runtime_tests, then
# the project's web-platform-tests (wpt/).
# Installs what it lacks first.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# setup.sh installed every tool the suite uses (Chromium, PostgreSQL, the S3
# server): a test that finds one missing fails instead of skipping.
export CI="${CI:-true}"

echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== eslint (crates/swrt_runtime/src/**/*.js, crates/swrt_indexeddb/js/*.js)" >&2
(cd crates/swrt_runtime && node_modules/.bin/eslint src)
(cd crates/swrt_indexeddb && ../swrt_runtime/node_modules/.bin/eslint --config ../swrt_runtime/eslint.config.mjs js)
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test" >&2
cargo test --workspace
echo "== cargo test -p swrt_store, against PostgreSQL" >&2
cargo build -q -p swrt_test_servers --bin with-postgres
target/debug/with-postgres cargo test -q -p swrt_store
echo "== swrt wpt (wpt/)" >&2
cargo build -p swrt
target/debug/swrt wpt --wpt-root wpt --expectations wpt/expectations.json \
  --json target/wpt-report.json

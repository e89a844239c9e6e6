#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit tests, host tests and the
# end-to-end runtime_tests. Installs what it lacks first.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test" >&2
cargo test --workspace

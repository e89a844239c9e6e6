#!/usr/bin/env bash
# Installs what building and testing swrt needs, only what is missing.
# Idempotent: safe to run before every build.
set -euo pipefail

need_apt=()
# The QuickJS backend of deno_core builds WAMR with CMake, which wants simde's
# headers (see build/offline.cmake).
command -v cmake >/dev/null 2>&1 || need_apt+=(cmake)
[ -f /usr/include/simde/simde-common.h ] || need_apt+=(libsimde-dev)
command -v cc >/dev/null 2>&1 || need_apt+=(build-essential)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
# The WPT runner (swrt wpt): npm brings testharness.js, Python runs wptserve.
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-pip)
# The dashboard test (crates/swrt/tests/dashboard.rs) drives Debian's Chromium
# with npm playwright-core; playwright's own browser downloads are never used.
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
# The fleet tests (crates/swrt_fleet) run a real PostgreSQL server; Debian
# keeps its programs in /usr/lib/postgresql/<version>/bin, out of PATH.
if ! command -v initdb >/dev/null 2>&1 &&
   ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  need_apt+=(postgresql)
fi

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo is missing; install Rust (https://rustup.rs) and run again" >&2
  exit 1
fi

# swrt wpt serves testharness.js, idlharness.js and webidl2.js from npm's
# wpt-runner (never copied into the repository) ...
repo="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -f "$repo/wpt/node_modules/wpt-runner/testharness/testharness.js" ] ||
   [ ! -f "$repo/wpt/node_modules/@webref/idl/background-fetch.idl" ] ||
   [ ! -f "$repo/wpt/node_modules/idb-keyval/dist/umd.js" ]; then
  # idb-keyval: wpt/IndexedDB/idb-keyval.any.js runs the real library.
  echo "setup: installing npm wpt-runner@7.0.0, @webref/idl and idb-keyval into wpt/node_modules" >&2
  npm install --prefix "$repo/wpt" --no-save --no-audit --no-fund --ignore-scripts \
    --loglevel=error wpt-runner@7.0.0 @webref/idl@3.85.0 idb-keyval@6.3.0 >/dev/null
fi
# ... and runs the test tree's Python handlers with PyPI's wptserve.
if ! python3 -c "import wptserve" >/dev/null 2>&1; then
  echo "setup: installing wptserve 4.0.3 (pip)" >&2
  python3 -m pip install -q wptserve==4.0.3 2>/dev/null ||
    python3 -m pip install -q --break-system-packages wptserve==4.0.3
fi
# ... and the fleet tests run moto's S3 server from PyPI for object storage.
if ! python3 -c "import moto.server, flask" >/dev/null 2>&1; then
  echo "setup: installing moto[server] 5.1.0 (pip)" >&2
  python3 -m pip install -q 'moto[server]==5.1.0' 2>/dev/null ||
    python3 -m pip install -q --break-system-packages 'moto[server]==5.1.0'
fi
# ... and the dashboard test drives /usr/bin/chromium with npm playwright-core,
# installed into a project-local, gitignored node_modules.
dashboard="$repo/crates/swrt/tests/dashboard"
if [ ! -f "$dashboard/node_modules/playwright-core/package.json" ]; then
  echo "setup: installing npm playwright-core into crates/swrt/tests/dashboard/node_modules" >&2
  # PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: playwright-core downloads nothing, but be explicit.
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$dashboard" --no-save --no-audit \
    --no-fund --ignore-scripts --loglevel=error >/dev/null
fi
# ... and scripts/test.sh lints the realms' JavaScript with npm ESLint,
# installed into swrt_runtime's gitignored node_modules.
runtime="$repo/crates/swrt_runtime"
if [ ! -f "$runtime/node_modules/eslint/package.json" ] ||
   [ ! -f "$runtime/node_modules/@eslint/js/package.json" ]; then
  echo "setup: installing npm eslint@10.15.0 and @eslint/js into crates/swrt_runtime/node_modules" >&2
  npm install --prefix "$runtime" --no-save --no-audit --no-fund --ignore-scripts \
    --loglevel=error eslint@10.15.0 @eslint/js@10.0.1 >/dev/null
fi
# ... and the runtime cases that run real libraries (an unmodified Workbox
# service worker) bundle them with npm esbuild at test time, from
# runtime_tests' gitignored node_modules.
cases="$repo/runtime_tests"
if [ ! -f "$cases/node_modules/esbuild/package.json" ] ||
   [ ! -f "$cases/node_modules/workbox-background-sync/package.json" ]; then
  echo "setup: installing npm esbuild and workbox-* 7.4.1 into runtime_tests/node_modules" >&2
  npm install --prefix "$cases" --no-save --no-audit --no-fund --ignore-scripts \
    --loglevel=error esbuild@0.28.2 workbox-core@7.4.1 workbox-precaching@7.4.1 \
    workbox-routing@7.4.1 workbox-strategies@7.4.1 workbox-expiration@7.4.1 \
    workbox-background-sync@7.4.1 >/dev/null
fi

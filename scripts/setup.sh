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

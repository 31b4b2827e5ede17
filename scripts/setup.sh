#!/usr/bin/env bash
# Installs everything the build, the tests, the benchmarks and the quickstart use (the list is in
# scripts/prereqs.sh: Debian packages, then the npm reference packages of tests/js), checks that
# all of it is there, then configures and builds mixq into build/. Idempotent: a second run only
# rebuilds.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prereqs.sh

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
missing=()
for p in "${MIXQ_DEB_PACKAGES[@]}"; do
  case "$p" in
    # A node that is already there (e.g. a newer nodejs that bundles npm) is kept.
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The reference implementations the tests compare against (real HF tokenizers, jinja, llama.cpp,
# the openai client), pinned by tests/js/package-lock.json; reinstalled when the lock changes.
# `npm ci` refuses this lock ("Missing: @node-llama-cpp/win-x64@ from lock file": node-llama-cpp's
# optional packages for other platforms are not in it, and regenerating it leaves them out again);
# `npm install --no-save` then installs the same locked versions without rewriting the lock.
if [ -f tests/js/package.json ]; then
  (cd tests/js && { [ -d node_modules ] && [ node_modules -nt package-lock.json ] ||
    npm ci --no-audit --no-fund --loglevel=error > /dev/null 2>&1 ||
    npm install --no-save --no-audit --no-fund --loglevel=error; })
fi
bash scripts/prereqs.sh

BUILD_DIR="${MIXQ_BUILD_DIR:-build}"
JOBS="${MIXQ_JOBS:-$(nproc)}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release ${MIXQ_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"

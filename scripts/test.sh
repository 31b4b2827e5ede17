#!/usr/bin/env bash
# Sets up (deps + build) and runs the whole test suite: unit tests, CLI contract tests, reference
# tests against the real implementations (npm), and a bounded fuzzing run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -f tests/js/package.json ]; then
  (cd tests/js && { [ -d node_modules ] && [ node_modules -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; })
fi
BUILD_DIR="${MIXQ_BUILD_DIR:-build}"
bash scripts/fuzz.sh "${MIXQ_FUZZ_SECONDS:-60}"
cd "$BUILD_DIR"
ctest --output-on-failure -j "$(nproc)" --timeout 1800

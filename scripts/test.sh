#!/usr/bin/env bash
# Sets up (deps + build) and runs the whole test suite: unit tests, CLI contract tests, reference
# tests against the real implementations (npm), and a bounded fuzzing run. Before any test runs,
# every prerequisite is checked (scripts/prereqs.sh): a missing one stops here with one line.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/prereqs.sh
BUILD_DIR="${MIXQ_BUILD_DIR:-build}"
bash scripts/fuzz.sh "${MIXQ_FUZZ_SECONDS:-60}"
cd "$BUILD_DIR"
ctest --output-on-failure -j "$(nproc)" --timeout 1800

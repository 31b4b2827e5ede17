#!/usr/bin/env bash
# Sets up (deps + build) and runs the main job on the bundled tiny MiniMax-M2 model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
BUILD_DIR="${MIXQ_BUILD_DIR:-build}"
"$BUILD_DIR/mixq" inspect models/tiny-minimax-m2

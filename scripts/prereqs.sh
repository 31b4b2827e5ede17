#!/usr/bin/env bash
# What the build, the tests, the benchmarks and the quickstart need, in one place: scripts/setup.sh
# installs it, and `bash scripts/prereqs.sh` (run by setup.sh and test.sh before any test) checks
# it and stops with one line naming everything that is missing.
# Sourced: defines MIXQ_DEB_PACKAGES, MIXQ_NODE_MAJOR and mixq_missing_prereqs. Run: checks.

# Debian packages. Build: cmake .. libssl-dev. Fuzzing (scripts/fuzz.sh): clang + its libFuzzer
# runtime. Tests: /usr/bin/python3 with numpy (tests/scripts/*.sh read safetensors and compare
# logits with it), nodejs + npm for the reference packages of tests/js/package.json. mixq serve's
# tests and the quickstart talk HTTP with curl; the published-commands test runs each launch command
# in its own network namespace (ip from iproute2, unshare from util-linux).
MIXQ_DEB_PACKAGES=(cmake ninja-build g++ pkg-config libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev
                   libyaml-cpp-dev libre2-dev libpcre2-dev libcpp-httplib-dev libcli11-dev libfmt-dev libhwy-dev
                   libssl-dev libicu-dev clang libclang-rt-14-dev python3 python3-numpy nodejs npm
                   curl iproute2 util-linux)
# node-llama-cpp and @huggingface/gguf (tests/js) declare node >= 20.
MIXQ_NODE_MAJOR=20

# Prints the missing prerequisites, space-separated (nothing when all are there).
mixq_missing_prereqs() {
  local root miss=() p
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  for p in "${MIXQ_DEB_PACKAGES[@]}"; do
    # nodejs/npm may come from elsewhere (e.g. a newer nodejs that bundles npm): the commands count.
    case "$p" in nodejs | npm) continue ;; esac
    dpkg -s "$p" >/dev/null 2>&1 || miss+=("package:$p")
  done
  for c in cmake ninja g++ clang++ pkg-config /usr/bin/python3 node npm curl ip unshare script; do
    command -v "$c" >/dev/null 2>&1 || miss+=("command:$c")
  done
  if [ -x /usr/bin/python3 ] && ! /usr/bin/python3 -c 'import numpy' >/dev/null 2>&1; then miss+=("python-module:numpy"); fi
  if command -v node >/dev/null 2>&1; then
    local major; major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
    [ "$major" -ge "$MIXQ_NODE_MAJOR" ] || miss+=("node>=$MIXQ_NODE_MAJOR(have $(node --version))")
  fi
  if [ -f "$root/tests/js/package.json" ]; then
    local dep
    for dep in $(node -e 'for (const d of Object.keys(require(process.argv[1]).dependencies || {})) console.log(d)' \
                   "$root/tests/js/package.json" 2>/dev/null); do
      [ -f "$root/tests/js/node_modules/$dep/package.json" ] || miss+=("npm:$dep")
    done
  fi
  echo "${miss[*]}"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  missing=$(mixq_missing_prereqs)
  if [ -n "$missing" ]; then
    echo "prereqs: missing $missing (bash scripts/setup.sh installs them; it needs root or sudo)" >&2
    exit 1
  fi
fi

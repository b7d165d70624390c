#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (lit,
# oracle tests, runtime unit tests, docs check) through ctest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${WINNOW_BUILD_DIR:-$root/build}"

"$root/tools/build.sh"
ctest --test-dir "$build" --output-on-failure -j "${WINNOW_JOBS:-2}"

#!/usr/bin/env bash
# Installs what is missing, builds, compiles the FastV example for the CPU and
# runs it: prints the kept indices, the counts and a checksum of the kept
# rows, and checks them against the NumPy oracle.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${WINNOW_BUILD_DIR:-$root/build}"

"$root/tools/build.sh"
/usr/bin/python3 "$root/examples/run_fastv.py" \
  --compile "$build/bin/winnow-compile" --run "$build/bin/winnow-run" \
  --workdir "$build/examples"

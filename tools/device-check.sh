#!/usr/bin/env bash
# Device correctness suite: compare every recipe on a CUDA GPU with the CPU
# backend. Thin wrapper over device_check.py (see docs/device-check.md):
#
#   tools/device-check.sh prepare BUNDLE     # here: compile, inputs, tools
#   BUNDLE/device-check.sh run BUNDLE        # GPU machine: run and compare
#   tools/device-check.sh self-test          # the comparison rules
#
# Works from tools/ and from inside a bundle (prepare copies it there).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
script="$here/device_check.py"
[[ -f "$script" ]] || { echo "device-check: error: $script not found" >&2; exit 3; }

# A Python that has NumPy: $PYTHON, then python3 on PATH, then Debian's
# (the python3 on PATH is not always the one with NumPy).
for candidate in "${PYTHON:-}" python3 /usr/bin/python3 python; do
  [[ -n "$candidate" ]] || continue
  if "$candidate" -c 'import numpy' >/dev/null 2>&1; then
    exec "$candidate" "$script" "$@"
  fi
done
echo "device-check: error: no Python with NumPy found (set PYTHON=...)" >&2
exit 3

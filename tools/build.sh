#!/usr/bin/env bash
# Installs what is missing, then configures and builds Winnow into build/.
# Usage: tools/build.sh [extra cmake -D options]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${WINNOW_BUILD_DIR:-$root/build}"

"$root/tools/install-deps.sh"

if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    "$@"
fi
# Two jobs: the machines this project runs on have two cores, and MLIR
# translation units need ~1 GB each.
cmake --build "$build" -j "${WINNOW_JOBS:-2}"

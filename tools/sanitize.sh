#!/usr/bin/env bash
# Builds Winnow with sanitizers and runs the test suite under them.
#
#   tools/sanitize.sh [address]   ASan + UBSan, the whole build (compiler,
#                                 runtime, tools, fuzz targets) in build-asan/,
#                                 then every ctest test.
#   tools/sanitize.sh thread      TSan, the runtime and its tests only, in
#                                 build-tsan/; runs the runtime unit tests and
#                                 winnow-concurrent-calls (8 threads on one
#                                 bound artifact, compiled by build/).
#
# libMLIR/libLLVM (Debian's) and the code inside compiled artifacts are not
# instrumented; tools/lib/sanitizer-build.sh says why ASAN_OPTIONS has
# allow_user_poisoning=0 and detect_leaks=0.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:-address}"
jobs="${WINNOW_JOBS:-2}"

"$root/tools/install-deps.sh" --sanitizers

source "$root/tools/lib/sanitizer-build.sh"

case "$mode" in
address)
  dir="${WINNOW_ASAN_BUILD_DIR:-$root/build-asan}"
  sanitizer_build "$dir" address,undefined -DWINNOW_FUZZERS=ON
  ctest --test-dir "$dir" --output-on-failure -j "$jobs"
  ;;
thread)
  dir="${WINNOW_TSAN_BUILD_DIR:-$root/build-tsan}"
  sanitizer_build "$dir" thread -DWINNOW_BUILD_COMPILER=OFF
  "$root/tools/build.sh"
  work="$dir/concurrent-calls"
  mkdir -p "$work"
  "$root/build/bin/winnow-compile" \
    "$root/test/reliability/Inputs/mutation-subject.mlir" -o "$work/subject.wnn"
  "$root/build/bin/winnow-compile" \
    "$root/examples/hnet_chunk_dechunk.mlir" -o "$work/hnet.wnn"
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" -R '^runtime\.'
  "$dir/bin/winnow-concurrent-calls" "$work/subject.wnn" --threads 8 --calls 200
  "$dir/bin/winnow-concurrent-calls" "$work/hnet.wnn" --threads 8 --calls 10
  ;;
*)
  echo "usage: $0 [address|thread]" >&2
  exit 2
  ;;
esac

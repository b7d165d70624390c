# Sourced by tools/sanitize.sh and tools/fuzz.sh: configures (once) and
# builds a clang-22 sanitizer build of Winnow.
#   sanitizer_build DIR SANITIZERS [cmake args...] [-- ninja targets...]
sanitizer_build() {
  local dir="$1" sanitizers="$2"
  shift 2
  local cmake_args=() targets=()
  while (($#)); do
    if [[ "$1" == "--" ]]; then
      shift
      targets=("$@")
      break
    fi
    cmake_args+=("$1")
    shift
  done
  if [[ ! -f "$dir/build.ninja" ]]; then
    cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
      -DCMAKE_C_FLAGS=-gline-tables-only -DCMAKE_CXX_FLAGS=-gline-tables-only \
      -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
      -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
      -DWINNOW_SANITIZERS="$sanitizers" "${cmake_args[@]}"
  fi
  cmake --build "$dir" -j "${WINNOW_JOBS:-2}" ${targets[@]:+--target "${targets[@]}"}
}

# LLVM's headers poison and unpoison memory by hand when compiled with ASan
# (BumpPtrAllocator slabs); inlined into Winnow's instrumented code they
# poison memory the uninstrumented libMLIR then uses legitimately. MLIR's
# registries live until exit, so leak reports are noise for the compiler.
export ASAN_OPTIONS="${ASAN_OPTIONS:-allow_user_poisoning=0:detect_leaks=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

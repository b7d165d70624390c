#!/usr/bin/env bash
# Installs every Debian package Winnow needs to build and test. Idempotent: a
# package already present is left alone, so the second run is a no-op.
set -euo pipefail

packages=(
  # Compiler toolchain: MLIR/LLVM 22 (libMLIR.so, mlir-tblgen, lit, FileCheck),
  # lld to link CPU artifacts, clang for the C++ build.
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools clang-22 lld-22
  cmake ninja-build
  # Artifact container (schema compiler + headers).
  flatbuffers-compiler libflatbuffers-dev
  # DLPack tensor interop in the runtime (header-only).
  libdlpack-dev
  # SHA-256 of artifacts in the runtime (libcrypto).
  libssl-dev
  # Runtime unit tests.
  libgtest-dev
  # winnow-run command line.
  libcli11-dev
  # Oracles for the execution tests (Debian's /usr/bin/python3 sees these).
  python3-numpy python3-torch
  # The winnow Python package: headers for its limited-API extension, its
  # pytest suite, and the venv + pip install it documents and tests.
  python3-dev python3-pytest python3-venv python3-pip python3-setuptools
  python3-wheel
  # Roofline plots of the benchmark harness (bench/bench.py; optional there).
  python3-matplotlib
)

# `install-deps.sh --sanitizers` adds the clang runtime of AddressSanitizer,
# UndefinedBehaviorSanitizer, ThreadSanitizer and libFuzzer
# (tools/sanitize.sh, tools/fuzz.sh).
if [[ "${1:-}" == "--sanitizers" ]]; then
  packages+=(libclang-rt-22-dev)
fi

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

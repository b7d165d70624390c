//===- TestArtifacts.h - Build .wnn artifacts in tests -------------------===//
//
// Plays the compiler's part for runtime tests: describes an artifact in plain
// structs and serialises it with the FlatBuffers builder, including the
// deliberately broken variants the validation tests need.
//
//===----------------------------------------------------------------------===//
#ifndef WINNOW_RUNTIME_TESTS_TESTARTIFACTS_H
#define WINNOW_RUNTIME_TESTS_TESTARTIFACTS_H

#include "winnow/runtime/winnow_runtime.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace winnow::testing {

struct TensorDef {
  std::string name;
  winnow_dtype dtype = WINNOW_DTYPE_F32;
  std::vector<int64_t> shape;
  int32_t countResult = -1;
  int32_t raggedAxis = 1;
  bool omitName = false;
  bool omitShape = false;
  /// Written instead of `dtype` to test out-of-range enum values.
  std::optional<uint8_t> rawDType;
  /// Format 2.1: per extent a symbol index or -1; not written when empty.
  std::vector<int32_t> dimSymbols;
};

/// A tensor with dynamic extents: `shape` holds -1 where `dimSymbols` names
/// a symbol.
TensorDef dynamicTensor(std::string name, winnow_dtype dtype,
                        std::vector<int64_t> shape,
                        std::vector<int32_t> dimSymbols,
                        int32_t countResult = -1);

struct SymbolDef {
  std::string name;
  int64_t bound = 0;
  bool omitName = false;
};

struct FunctionDef {
  std::string name;
  std::vector<TensorDef> inputs;
  std::vector<TensorDef> results;
  bool omitName = false;
  /// Format 2.1; the field is not written when empty.
  std::vector<SymbolDef> symbols;
};

enum class TargetKind { Cpu, Cuda };

struct TargetDef {
  std::string triple;
  std::string cpu;
  /// CUDA: the host shared object.
  std::vector<uint8_t> sharedObject;
  bool omitBinary = false;
  TargetKind kind = TargetKind::Cpu;
  // CUDA only.
  uint32_t cudaAbiVersion = 1;
  std::vector<std::string> cubinArchitectures = {"sm_80", "sm_90"};
  std::string ptxArchitecture = "sm_90";
  std::vector<std::string> kernels = {"add_kernel", "fault_kernel"};
  /// Per function; empty: the field is absent (an older artifact).
  std::vector<int64_t> workspaceBytes = {};
};

enum class DigestKind {
  /// The correct whole-file SHA-256, as winnow-compile writes it.
  Sealed,
  /// A 32-byte field of zeros.
  Zeros,
  /// No sha256 field.
  Omitted,
};

struct ArtifactDef {
  uint32_t formatMajor = WINNOW_ARTIFACT_FORMAT_MAJOR;
  uint32_t formatMinor = 0;
  DigestKind digest = DigestKind::Sealed;
  std::string producer = "winnow-tests";
  std::string sourceName = "test_entries.mlir";
  std::vector<FunctionDef> functions;
  std::vector<TargetDef> targets;
};

std::vector<uint8_t> buildArtifact(const ArtifactDef &def);

/// The functions implemented by TestEntries.c, with one CPU target for the
/// host holding `sharedObject`.
ArtifactDef testEntriesArtifact(std::vector<uint8_t> sharedObject);

/// Only the add_one function of testEntriesArtifact.
ArtifactDef addOneArtifact(std::vector<uint8_t> sharedObject);

/// The functions of TestDynamicEntries.c (format 2.1), with one CPU target
/// for the host holding `sharedObject`: add_one_rows [batch<=4],
/// keep_first [batch<=4] (two inputs and a ragged result naming batch) and
/// outer [m<=3, n<=5].
ArtifactDef dynamicArtifact(std::vector<uint8_t> sharedObject);

/// thread_ids of TestParallelEntries.c, which runs a parallel loop (and
/// loops nested in it) through the runtime's thread pool pointer.
ArtifactDef parallelArtifact(std::vector<uint8_t> sharedObject);

/// The functions of cuda/TestCudaHost.c, with one CUDA target holding
/// `hostObject`.
ArtifactDef cudaTestArtifact(std::vector<uint8_t> hostObject);
/// cudaTestArtifact with the workspace sizes winnow-compile would record.
ArtifactDef cudaWorkspaceTestArtifact(std::vector<uint8_t> hostObject);

/// "x86_64-unknown-linux-gnu" or "aarch64-unknown-linux-gnu".
std::string hostTriple();
/// A triple for the architecture that is not the host's.
std::string foreignTriple();

/// Reads a whole file; aborts the test program if it cannot.
std::vector<uint8_t> readFileBytes(const std::string &path);
bool writeFileBytes(const std::string &path, const std::vector<uint8_t> &bytes);

} // namespace winnow::testing

#endif // WINNOW_RUNTIME_TESTS_TESTARTIFACTS_H

//===- Module.h - In-memory form of a verified .wnn artifact -------------===//
//
// The reader verifies the FlatBuffer once and copies the manifest into plain
// C++ structures, so introspection and call checking never touch unverified
// bytes again. Native code stays in the owned buffer and is only referenced.
//
//===----------------------------------------------------------------------===//
#ifndef WINNOW_RUNTIME_SRC_MODULE_H
#define WINNOW_RUNTIME_SRC_MODULE_H

#include "RefCounted.h"
#include "winnow/runtime/winnow_runtime.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace winnow::runtime {

struct TensorSpec {
  std::string name;
  winnow_dtype dtype;
  /// -1 for a dynamic extent (one that `dimSymbols` names).
  std::vector<int64_t> shape;
  /// Empty when every extent is static; else one entry per extent: the index
  /// in FunctionSpec::symbols of a dynamic extent, -1 for a static one.
  std::vector<int32_t> dimSymbols;
  int32_t countResult = -1;
  /// The padded axis of a ragged result; its batch axis is the one before.
  int32_t raggedAxis = 1;

  /// The symbol of extent `d`, or -1 when it is static.
  int32_t symbolOf(size_t d) const {
    return dimSymbols.empty() ? -1 : dimSymbols[d];
  }
};

/// A dynamic extent: every extent naming it has one value per call, which
/// the call's inputs give (0 <= value <= bound).
struct SymbolSpec {
  std::string name;
  int64_t bound = 0;
  /// The first input extent that names the symbol (inputs in order, then
  /// extents outermost first): where a call takes its value from.
  size_t bindingInput = 0;
  size_t bindingDim = 0;
};

struct FunctionSpec {
  std::string name;
  std::vector<SymbolSpec> symbols;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> results;
};

struct TargetSpec {
  winnow_target_kind kind = WINNOW_TARGET_KIND_UNKNOWN;
  /// The raw union tag, kept to name unknown kinds in messages.
  uint8_t unionType = 0;
  std::string triple;
  std::string cpu;
  /// Points into the module's owned buffer (CUDA: the host shared object).
  const uint8_t *binary = nullptr;
  size_t binarySize = 0;

  // CUDA targets only.
  uint32_t cudaAbiVersion = 0;
  std::vector<std::string> cubinArchitectures;
  std::string ptxArchitecture;
  std::vector<std::string> kernels;
  /// Per function: device scratch bytes of one call, -1 when unknown
  /// (always as many entries as functions once the module is read).
  std::vector<int64_t> workspaceBytes;
  /// c_str() views of the two lists above, for winnow_target_info.
  std::vector<const char *> cubinArchitecturePointers;
  std::vector<const char *> kernelPointers;
};

/// "target 1 (cuda x86_64-unknown-linux-gnu, sm_80 sm_90 + ptx sm_90)", for
/// messages.
std::string describeTarget(const TargetSpec &target, size_t index);

/// Parses and validates an artifact. On success `out` holds the manifest and
/// pointers into `bytes`, which the caller must keep alive and unchanged.
winnow_status parseArtifact(const uint8_t *bytes, size_t size,
                            uint32_t &formatMajor, uint32_t &formatMinor,
                            std::string &producer, std::string &sourceName,
                            std::vector<FunctionSpec> &functions,
                            std::vector<TargetSpec> &targets);

/// "batchx8xf32": formatTensorType with dynamic extents spelled by their
/// symbol's name, or by its value when `symbolValues` is given.
std::string formatSpecType(const TensorSpec &spec, const FunctionSpec &function,
                           const int64_t *symbolValues = nullptr);

/// Returns NOT_FOUND naming the available functions when `name` is unknown.
winnow_status findFunction(const winnow_module_s &module, const char *name,
                           size_t &index);

} // namespace winnow::runtime

struct winnow_module_s {
  winnow::runtime::RefCount refs;
  std::vector<uint8_t> bytes;
  uint32_t formatMajor = 0;
  uint32_t formatMinor = 0;
  std::string producer;
  std::string sourceName;
  std::vector<winnow::runtime::FunctionSpec> functions;
  std::vector<winnow::runtime::TargetSpec> targets;
};

#endif // WINNOW_RUNTIME_SRC_MODULE_H

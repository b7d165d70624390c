//===- ArtifactReader.cpp - Verify a .wnn buffer and extract its manifest ===//
//
// Order of checks, so each failure gets the most useful message: size, file
// identifier, a shallow read of format_major (a newer major may not pass the
// full verifier, and "unsupported version" is the real reason then), the
// FlatBuffers verifier over the whole buffer, and finally the manifest rules
// that the schema cannot express (required fields, extents, count_result).
//
//===----------------------------------------------------------------------===//

#include "DType.h"
#include "Module.h"
#include "Status.h"
#include "winnow/artifact/winnow_artifact_generated.h"

#include <set>

namespace winnow::runtime {

namespace fb = winnow::artifact;

namespace {

constexpr const char *kFileIdentifier = "WNNW";

winnow_status corrupt(std::string message) {
  return makeStatus(WINNOW_STATUS_DATA_LOSS,
                    "corrupt artifact: " + std::move(message));
}

winnow_status invalid(std::string message) {
  return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                    "invalid artifact: " + std::move(message));
}

/// Prints the 4 identifier bytes, escaping what is not printable ASCII.
std::string quoteIdentifier(const uint8_t *p) {
  static const char kHex[] = "0123456789abcdef";
  std::string result;
  for (int i = 0; i < 4; ++i) {
    if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' && p[i] != '\'') {
      result += static_cast<char>(p[i]);
    } else {
      result += "\\x";
      result += kHex[p[i] >> 4];
      result += kHex[p[i] & 15];
    }
  }
  return result;
}

winnow_status readTensorSpec(const fb::TensorSpec *spec,
                             const std::string &where, bool isResult,
                             TensorSpec &out) {
  if (!spec->name() || spec->name()->size() == 0)
    return invalid(where + ": missing name");
  out.name = spec->name()->str();
  std::string named = where + " '" + out.name + "'";
  int dtype = static_cast<int>(spec->dtype());
  if (!isValidDType(dtype))
    return invalid(named + ": unknown dtype value " + std::to_string(dtype));
  out.dtype = static_cast<winnow_dtype>(dtype);
  if (!spec->shape())
    return invalid(named + ": missing shape (a scalar has an empty shape)");
  // The verifier only checks the 4-byte alignment of the length prefix; an
  // 8-byte element misaligned by a damaged offset would be an unaligned load.
  // (The module's buffer is heap-allocated, so address alignment equals
  // offset alignment.)
  // An empty vector has no element to load, and builders do not pad it.
  if (spec->shape()->size() != 0 &&
      reinterpret_cast<uintptr_t>(spec->shape()->data()) % alignof(int64_t))
    return corrupt(named + ": misaligned shape vector");
  out.shape.assign(spec->shape()->begin(), spec->shape()->end());
  for (size_t d = 0; d < out.shape.size(); ++d) {
    if (out.shape[d] < 0)
      return invalid(named + ": negative extent " +
                     std::to_string(out.shape[d]) + " in dimension " +
                     std::to_string(d));
  }
  if (!denseByteSize(out.shape.data(), out.shape.size(), out.dtype))
    return invalid(named + ": tensor size " +
                   formatTensorType(out.shape, out.dtype) +
                   " overflows the address space");
  out.countResult = spec->count_result();
  out.raggedAxis = spec->ragged_axis();
  if (!isResult && out.countResult != -1)
    return invalid(named + ": count_result " + std::to_string(out.countResult) +
                   " is only allowed on results (expected -1)");
  return WINNOW_OK;
}

winnow_status readTensorSpecs(
    const flatbuffers::Vector<flatbuffers::Offset<fb::TensorSpec>> *specs,
    const std::string &functionWhere, bool isResult,
    std::vector<TensorSpec> &out) {
  // An absent vector is what a builder writes for "no arguments".
  if (!specs)
    return WINNOW_OK;
  out.resize(specs->size());
  for (flatbuffers::uoffset_t i = 0; i < specs->size(); ++i) {
    std::string where =
        functionWhere + (isResult ? " result " : " input ") + std::to_string(i);
    WINNOW_RETURN_IF_ERROR(
        readTensorSpec(specs->Get(i), where, isResult, out[i]));
  }
  return WINNOW_OK;
}

/// A ragged result must name a `[B] i32` result whose B is the extent of the
/// axis before its ragged axis.
winnow_status checkCountResults(const FunctionSpec &function) {
  const std::vector<TensorSpec> &results = function.results;
  for (size_t i = 0; i < results.size(); ++i) {
    const TensorSpec &result = results[i];
    if (result.countResult == -1)
      continue;
    std::string where = "function '" + function.name + "' result " +
                        std::to_string(i) + " '" + result.name +
                        "': count_result " + std::to_string(result.countResult);
    if (result.countResult < 0 ||
        static_cast<size_t>(result.countResult) >= results.size())
      return invalid(where + " is out of range (the function has " +
                     std::to_string(results.size()) + " results)");
    if (static_cast<size_t>(result.countResult) == i)
      return invalid(where + " points at the result itself");
    if (result.shape.size() < 2)
      return invalid(where +
                     ": a ragged result needs rank >= 2 (batch, "
                     "rows, ...), got " +
                     formatTensorType(result.shape, result.dtype));
    int64_t axis = result.raggedAxis;
    if (axis < 1 || static_cast<size_t>(axis) >= result.shape.size())
      return invalid(where + ": ragged_axis " + std::to_string(axis) +
                     " must be in [1, " + std::to_string(result.shape.size()) +
                     ") for " + formatTensorType(result.shape, result.dtype));
    const TensorSpec &count = results[result.countResult];
    std::vector<int64_t> expected = {result.shape[axis - 1]};
    if (count.dtype != WINNOW_DTYPE_I32 || count.shape != expected)
      return invalid(where + " must point at a " +
                     formatTensorType(expected, WINNOW_DTYPE_I32) +
                     " result, but '" + count.name + "' is " +
                     formatTensorType(count.shape, count.dtype));
    if (count.countResult != -1)
      return invalid(where + " points at '" + count.name +
                     "', which is itself ragged");
  }
  return WINNOW_OK;
}

/// "sm_80", "sm_90a", "sm_100f": what cubin/PTX architectures look like.
bool isSmArchitecture(const std::string &arch) {
  if (arch.size() < 5 || arch.compare(0, 3, "sm_") != 0)
    return false;
  size_t digits = 3;
  while (digits < arch.size() && arch[digits] >= '0' && arch[digits] <= '9')
    ++digits;
  if (digits < 5)
    return false;
  return digits == arch.size() ||
         (digits + 1 == arch.size() &&
          (arch[digits] == 'a' || arch[digits] == 'f'));
}

winnow_status readStrings(
    const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>> *list,
    const std::string &where, const char *what,
    std::vector<std::string> &out) {
  if (!list)
    return WINNOW_OK;
  for (flatbuffers::uoffset_t i = 0; i < list->size(); ++i) {
    const flatbuffers::String *text = list->Get(i);
    if (!text || text->size() == 0)
      return invalid(where + ": " + what + " " + std::to_string(i) +
                     " is empty");
    out.push_back(text->str());
  }
  return WINNOW_OK;
}

winnow_status readCudaTarget(const fb::CudaBinary *cuda,
                             const std::string &where, TargetSpec &out) {
  if (!cuda)
    return corrupt(where + ": CUDA binary table is missing");
  out.kind = WINNOW_TARGET_KIND_CUDA;
  std::string named = where + " (cuda)";
  if (!cuda->triple() || cuda->triple()->size() == 0)
    return invalid(named + ": missing host target triple");
  out.triple = cuda->triple()->str();
  if (cuda->cpu())
    out.cpu = cuda->cpu()->str();
  if (!cuda->host_shared_object() || cuda->host_shared_object()->size() == 0)
    return invalid(named + ": missing host shared object");
  out.binary = cuda->host_shared_object()->data();
  out.binarySize = cuda->host_shared_object()->size();
  // 0 is what an absent field reads as; a different non-zero version is a
  // valid artifact for another runtime and is refused when binding, so that
  // the artifact's other targets stay usable.
  out.cudaAbiVersion = cuda->abi_version();
  if (out.cudaAbiVersion == 0)
    return invalid(named + ": missing CUDA host ABI version");
  WINNOW_RETURN_IF_ERROR(readStrings(cuda->cubin_architectures(), named,
                                     "cubin architecture",
                                     out.cubinArchitectures));
  for (const std::string &arch : out.cubinArchitectures)
    if (!isSmArchitecture(arch))
      return invalid(named + ": cubin architecture '" + arch +
                     "' is not of the form sm_<major><minor>");
  if (cuda->ptx_architecture())
    out.ptxArchitecture = cuda->ptx_architecture()->str();
  if (!out.ptxArchitecture.empty() && !isSmArchitecture(out.ptxArchitecture))
    return invalid(named + ": PTX architecture '" + out.ptxArchitecture +
                   "' is not of the form sm_<major><minor>");
  if (out.cubinArchitectures.empty() && out.ptxArchitecture.empty())
    return invalid(named + ": no device code (neither cubin architectures "
                           "nor a PTX architecture)");
  WINNOW_RETURN_IF_ERROR(
      readStrings(cuda->kernels(), named, "kernel name", out.kernels));
  for (const std::string &arch : out.cubinArchitectures)
    out.cubinArchitecturePointers.push_back(arch.c_str());
  for (const std::string &kernel : out.kernels)
    out.kernelPointers.push_back(kernel.c_str());
  return WINNOW_OK;
}

winnow_status readTarget(const fb::Target *target, size_t index,
                         TargetSpec &out) {
  std::string where = "target " + std::to_string(index);
  out.unionType = static_cast<uint8_t>(target->binary_type());
  if (target->binary_type() == fb::TargetBinary_NONE)
    return invalid(where + " has no binary");
  if (target->binary_type() == fb::TargetBinary_CudaBinary)
    return readCudaTarget(target->binary_as_CudaBinary(), where, out);
  if (target->binary_type() != fb::TargetBinary_CpuBinary) {
    // A union member added by a newer minor version: list it, never bind it.
    out.kind = WINNOW_TARGET_KIND_UNKNOWN;
    return WINNOW_OK;
  }
  const fb::CpuBinary *cpu = target->binary_as_CpuBinary();
  if (!cpu)
    return corrupt(where + ": CPU binary table is missing");
  out.kind = WINNOW_TARGET_KIND_CPU;
  if (!cpu->triple() || cpu->triple()->size() == 0)
    return invalid(where + " (cpu): missing target triple");
  out.triple = cpu->triple()->str();
  if (cpu->cpu())
    out.cpu = cpu->cpu()->str();
  if (!cpu->shared_object() || cpu->shared_object()->size() == 0)
    return invalid(where + " (cpu): missing shared object");
  out.binary = cpu->shared_object()->data();
  out.binarySize = cpu->shared_object()->size();
  return WINNOW_OK;
}

} // namespace

winnow_status parseArtifact(const uint8_t *bytes, size_t size,
                            uint32_t &formatMajor, uint32_t &formatMinor,
                            std::string &producer, std::string &sourceName,
                            std::vector<FunctionSpec> &functions,
                            std::vector<TargetSpec> &targets) {
  // Root offset + identifier.
  if (size < 8)
    return corrupt("file is too small (" + std::to_string(size) +
                   " bytes) to be a Winnow artifact");
  if (size >= FLATBUFFERS_MAX_BUFFER_SIZE)
    return invalid("file is too large (" + std::to_string(size) +
                   " bytes; FlatBuffers are limited to 2 GiB)");
  if (!flatbuffers::BufferHasIdentifier(bytes, kFileIdentifier))
    return makeStatus(WINNOW_STATUS_INVALID_ARGUMENT,
                      "not a Winnow artifact: file identifier is '" +
                          quoteIdentifier(bytes + 4) + "', expected '" +
                          kFileIdentifier + "'");

  {
    flatbuffers::Verifier shallow(bytes, size);
    flatbuffers::uoffset_t rootOffset = shallow.VerifyOffset(0);
    if (!rootOffset)
      return corrupt("root table offset points outside the file");
    // Generated tables inherit Table privately, so verify through Table.
    auto *root =
        reinterpret_cast<const flatbuffers::Table *>(bytes + rootOffset);
    if (!root->VerifyTableStart(shallow) ||
        !root->VerifyField<uint32_t>(shallow, fb::Artifact::VT_FORMAT_MAJOR, 4))
      return corrupt("root table is truncated or malformed");
    uint32_t major = root->GetField<uint32_t>(fb::Artifact::VT_FORMAT_MAJOR, 1);
    if (major != WINNOW_ARTIFACT_FORMAT_MAJOR)
      return makeStatus(
          WINNOW_STATUS_UNIMPLEMENTED,
          "unsupported artifact format version " + std::to_string(major) +
              " (this runtime reads format " +
              std::to_string(WINNOW_ARTIFACT_FORMAT_MAJOR) + ".x)");
  }

  flatbuffers::Verifier verifier(bytes, size);
  if (!fb::VerifyArtifactBuffer(verifier))
    return corrupt("FlatBuffers verification failed (the file is truncated "
                   "or damaged)");

  const fb::Artifact *artifact = fb::GetArtifact(bytes);
  formatMajor = artifact->format_major();
  formatMinor = artifact->format_minor();
  producer = artifact->producer() ? artifact->producer()->str() : "";
  sourceName = artifact->source_name() ? artifact->source_name()->str() : "";

  if (const auto *fns = artifact->functions()) {
    functions.resize(fns->size());
    std::set<std::string> seen;
    for (flatbuffers::uoffset_t i = 0; i < fns->size(); ++i) {
      const fb::Function *fn = fns->Get(i);
      FunctionSpec &function = functions[i];
      if (!fn->name() || fn->name()->size() == 0)
        return invalid("function " + std::to_string(i) + ": missing name");
      function.name = fn->name()->str();
      if (!seen.insert(function.name).second)
        return invalid("duplicate function name '" + function.name + "'");
      std::string where = "function '" + function.name + "'";
      WINNOW_RETURN_IF_ERROR(
          readTensorSpecs(fn->inputs(), where, false, function.inputs));
      WINNOW_RETURN_IF_ERROR(
          readTensorSpecs(fn->results(), where, true, function.results));
      WINNOW_RETURN_IF_ERROR(checkCountResults(function));
    }
  }

  if (const auto *tgts = artifact->targets()) {
    targets.resize(tgts->size());
    for (flatbuffers::uoffset_t i = 0; i < tgts->size(); ++i)
      WINNOW_RETURN_IF_ERROR(readTarget(tgts->Get(i), i, targets[i]));
  }
  return WINNOW_OK;
}

} // namespace winnow::runtime

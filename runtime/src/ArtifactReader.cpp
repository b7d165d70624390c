//===- ArtifactReader.cpp - Verify a .wnn buffer and extract its manifest ===//
//
// Order of checks, so each failure gets the most useful message: size, file
// identifier, a shallow read of format_major (a newer major may not pass the
// full verifier, and "unsupported version" is the real reason then), the
// FlatBuffers verifier over the whole buffer, the SHA-256 digest of the
// whole file (any damage stops here), the manifest rules that the schema
// cannot express (required fields, names, bounded extents and counts,
// symbols and the extents naming them, count_result), and finally the code of
// every target, read as data: each entry point must be defined and its ABI
// descriptor must be the one the manifest describes. Nothing of the code is
// mapped or run here.
//
//===----------------------------------------------------------------------===//

#include "DType.h"
#include "ElfImage.h"
#include "Module.h"
#include "Status.h"
#include "winnow/artifact/winnow_artifact_generated.h"
#include "winnow/support/ArtifactDigest.h"
#include "winnow/support/EntryAbi.h"

#include <elf.h>
#include <cstring>
#include <set>

namespace winnow::runtime {

namespace fb = winnow::artifact;

namespace {

constexpr const char *kFileIdentifier = "WNNW";

// Bounds on what a manifest may say (docs/runtime.md). Far above any real
// program, far below what would exhaust memory or overflow arithmetic.
constexpr size_t kMaxFunctions = 4096;
constexpr size_t kMaxTensorsPerFunction = 1024;
constexpr size_t kMaxRank = 16;
/// 1 TiB: a tensor's dense size. (AddressSanitizer's allocator stops at
/// this size too, so sanitizer builds meet the same limit.)
constexpr uint64_t kMaxTensorBytes = uint64_t(1) << 40;
constexpr int64_t kMaxWorkspaceBytes = int64_t(1) << 40;
constexpr size_t kMaxNameBytes = 1024;
constexpr size_t kMaxTextBytes = 4096;

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

/// Reads a manifest string: at most `maxBytes` bytes and no control
/// characters (so no NUL: the C API hands names out as C strings, and entry
/// point names become symbol names). An absent string reads as empty.
winnow_status readText(const flatbuffers::String *text,
                       const std::string &where, size_t maxBytes,
                       std::string &out) {
  out.clear();
  if (!text)
    return WINNOW_OK;
  if (text->size() > maxBytes)
    return invalid(where + " is " + std::to_string(text->size()) +
                   " bytes long (at most " + std::to_string(maxBytes) + ")");
  for (flatbuffers::uoffset_t i = 0; i < text->size(); ++i) {
    auto c = static_cast<unsigned char>(text->Get(i));
    if (c < 0x20 || c == 0x7f)
      return invalid(where + " contains the control character 0x" +
                     "0123456789abcdef"[c >> 4] + "0123456789abcdef"[c & 15] +
                     " at byte " + std::to_string(i));
  }
  out = text->str();
  return WINNOW_OK;
}

/// readText for a name, which must also be non-empty.
winnow_status readName(const flatbuffers::String *text,
                       const std::string &where, std::string &out) {
  WINNOW_RETURN_IF_ERROR(readText(text, where + " name", kMaxNameBytes, out));
  if (out.empty())
    return invalid(where + ": missing name");
  return WINNOW_OK;
}

/// Reads a function's symbols (format 2.1): unique names, bounds >= 0.
winnow_status
readSymbols(const flatbuffers::Vector<flatbuffers::Offset<fb::Symbol>> *symbols,
            const std::string &functionWhere, std::vector<SymbolSpec> &out) {
  if (!symbols)
    return WINNOW_OK;
  // Each symbol must be an input extent, so far fewer fit in a function.
  if (symbols->size() > kMaxTensorsPerFunction)
    return invalid(functionWhere + " has " + std::to_string(symbols->size()) +
                   " symbols (at most " +
                   std::to_string(kMaxTensorsPerFunction) + ")");
  out.resize(symbols->size());
  std::set<std::string> seen;
  for (flatbuffers::uoffset_t i = 0; i < symbols->size(); ++i) {
    const fb::Symbol *symbol = symbols->Get(i);
    std::string where = functionWhere + " symbol " + std::to_string(i);
    WINNOW_RETURN_IF_ERROR(readName(symbol->name(), where, out[i].name));
    if (!seen.insert(out[i].name).second)
      return invalid(functionWhere + ": duplicate symbol name '" + out[i].name +
                     "'");
    out[i].bound = symbol->bound();
    if (out[i].bound < 0)
      return invalid(where + " '" + out[i].name + "': negative bound " +
                     std::to_string(out[i].bound));
  }
  return WINNOW_OK;
}

/// Reads `dim_symbols` and checks the shape against it: an extent is -1
/// exactly when it names one of `function`'s symbols. `bounded` gets the
/// shape with every dynamic extent at its symbol's bound.
winnow_status readDimSymbols(const fb::TensorSpec *spec,
                             const FunctionSpec &function,
                             const std::string &named, TensorSpec &out,
                             std::vector<int64_t> &bounded) {
  if (const auto *dims = spec->dim_symbols(); dims && dims->size() != 0) {
    if (dims->size() != out.shape.size())
      return invalid(named + ": dim_symbols has " +
                     std::to_string(dims->size()) + " entries for rank " +
                     std::to_string(out.shape.size()));
    out.dimSymbols.assign(dims->begin(), dims->end());
  }
  bounded = out.shape;
  for (size_t d = 0; d < out.shape.size(); ++d) {
    int32_t symbol = out.symbolOf(d);
    std::string dimension = "dimension " + std::to_string(d);
    if (symbol == -1) {
      if (out.shape[d] == -1)
        return invalid(named + ": " + dimension +
                       " is dynamic (-1) but dim_symbols names no symbol "
                       "for it");
      if (out.shape[d] < 0)
        return invalid(named + ": negative extent " +
                       std::to_string(out.shape[d]) + " in " + dimension);
      continue;
    }
    if (symbol < 0 || static_cast<size_t>(symbol) >= function.symbols.size())
      return invalid(named + ": dim_symbols[" + std::to_string(d) + "] is " +
                     std::to_string(symbol) + ", out of range (function '" +
                     function.name + "' has " +
                     std::to_string(function.symbols.size()) + " symbols)");
    const SymbolSpec &symbolSpec = function.symbols[symbol];
    if (out.shape[d] != -1)
      return invalid(named + ": " + dimension + " names the symbol '" +
                     symbolSpec.name + "' but its extent is " +
                     std::to_string(out.shape[d]) +
                     " (a dynamic extent is -1)");
    bounded[d] = symbolSpec.bound;
  }
  return WINNOW_OK;
}

winnow_status readTensorSpec(const fb::TensorSpec *spec,
                             const std::string &where, bool isResult,
                             const FunctionSpec &function, TensorSpec &out) {
  WINNOW_RETURN_IF_ERROR(readName(spec->name(), where, out.name));
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
  if (spec->shape()->size() > kMaxRank)
    return invalid(named + ": rank " + std::to_string(spec->shape()->size()) +
                   " is above the limit of " + std::to_string(kMaxRank));
  if (spec->shape()->size() != 0 &&
      reinterpret_cast<uintptr_t>(spec->shape()->data()) % alignof(int64_t))
    return corrupt(named + ": misaligned shape vector");
  out.shape.assign(spec->shape()->begin(), spec->shape()->end());
  // Calls bind each symbol to at most its bound, so the size limits hold
  // for every call when they hold at the bounds.
  std::vector<int64_t> bounded;
  WINNOW_RETURN_IF_ERROR(readDimSymbols(spec, function, named, out, bounded));
  auto type = [&] {
    std::string text = formatTensorType(bounded, out.dtype);
    if (out.dimSymbols.empty())
      return text;
    return formatSpecType(out, function) + " (" + text + " at the bounds)";
  };
  std::optional<uint64_t> bytes =
      denseByteSize(bounded.data(), bounded.size(), out.dtype);
  if (!bytes)
    return invalid(named + ": tensor size " + type() +
                   " overflows the address space");
  if (*bytes > kMaxTensorBytes)
    return invalid(named + ": " + type() + " is " + std::to_string(*bytes) +
                   " bytes, above the limit of 1 TiB");
  out.countResult = spec->count_result();
  out.raggedAxis = spec->ragged_axis();
  if (!isResult && out.countResult != -1)
    return invalid(named + ": count_result " + std::to_string(out.countResult) +
                   " is only allowed on results (expected -1)");
  return WINNOW_OK;
}

winnow_status readTensorSpecs(
    const flatbuffers::Vector<flatbuffers::Offset<fb::TensorSpec>> *specs,
    const std::string &functionWhere, bool isResult, FunctionSpec &function) {
  std::vector<TensorSpec> &out = isResult ? function.results : function.inputs;
  // An absent vector is what a builder writes for "no arguments".
  if (!specs)
    return WINNOW_OK;
  if (specs->size() > kMaxTensorsPerFunction)
    return invalid(functionWhere + " has " + std::to_string(specs->size()) +
                   (isResult ? " results" : " inputs") + " (at most " +
                   std::to_string(kMaxTensorsPerFunction) + ")");
  out.resize(specs->size());
  for (flatbuffers::uoffset_t i = 0; i < specs->size(); ++i) {
    std::string where =
        functionWhere + (isResult ? " result " : " input ") + std::to_string(i);
    WINNOW_RETURN_IF_ERROR(
        readTensorSpec(specs->Get(i), where, isResult, function, out[i]));
  }
  return WINNOW_OK;
}

/// Finds where a call binds each symbol: the first input extent naming it.
/// A symbol no input names could never be bound.
winnow_status findSymbolBindings(FunctionSpec &function) {
  std::vector<bool> found(function.symbols.size(), false);
  for (size_t i = 0; i < function.inputs.size(); ++i) {
    const TensorSpec &input = function.inputs[i];
    for (size_t d = 0; d < input.dimSymbols.size(); ++d) {
      int32_t symbol = input.dimSymbols[d];
      if (symbol < 0 || found[symbol])
        continue;
      found[symbol] = true;
      function.symbols[symbol].bindingInput = i;
      function.symbols[symbol].bindingDim = d;
    }
  }
  for (size_t s = 0; s < function.symbols.size(); ++s)
    if (!found[s])
      return invalid("function '" + function.name + "' symbol " +
                     std::to_string(s) + " '" + function.symbols[s].name +
                     "' is the extent of no input (a call could not bind "
                     "it)");
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
                     formatSpecType(result, function));
    int64_t axis = result.raggedAxis;
    if (axis < 1 || static_cast<size_t>(axis) >= result.shape.size())
      return invalid(where + ": ragged_axis " + std::to_string(axis) +
                     " must be in [1, " + std::to_string(result.shape.size()) +
                     ") for " + formatSpecType(result, function));
    const TensorSpec &count = results[result.countResult];
    // The count's one extent is the batch extent, static or the same symbol.
    TensorSpec expected;
    expected.dtype = WINNOW_DTYPE_I32;
    expected.shape = {result.shape[axis - 1]};
    if (int32_t symbol = result.symbolOf(axis - 1); symbol >= 0)
      expected.dimSymbols = {symbol};
    if (count.dtype != WINNOW_DTYPE_I32 || count.shape != expected.shape ||
        count.symbolOf(0) != expected.symbolOf(0))
      return invalid(where + " must point at a " +
                     formatSpecType(expected, function) + " result, but '" +
                     count.name + "' is " + formatSpecType(count, function));
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
  if (list->size() > kMaxFunctions)
    return invalid(where + ": " + std::to_string(list->size()) + " " + what +
                   "s (at most " + std::to_string(kMaxFunctions) + ")");
  for (flatbuffers::uoffset_t i = 0; i < list->size(); ++i) {
    std::string text;
    WINNOW_RETURN_IF_ERROR(readText(list->Get(i),
                                    where + ": " + what + " " +
                                        std::to_string(i),
                                    kMaxNameBytes, text));
    if (text.empty())
      return invalid(where + ": " + what + " " + std::to_string(i) +
                     " is empty");
    out.push_back(std::move(text));
  }
  return WINNOW_OK;
}

winnow_status readCudaTarget(const fb::CudaBinary *cuda,
                             const std::string &where, TargetSpec &out) {
  if (!cuda)
    return corrupt(where + ": CUDA binary table is missing");
  out.kind = WINNOW_TARGET_KIND_CUDA;
  std::string named = where + " (cuda)";
  WINNOW_RETURN_IF_ERROR(
      readText(cuda->triple(), named + ": triple", kMaxTextBytes, out.triple));
  if (out.triple.empty())
    return invalid(named + ": missing host target triple");
  WINNOW_RETURN_IF_ERROR(
      readText(cuda->cpu(), named + ": cpu", kMaxTextBytes, out.cpu));
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
  WINNOW_RETURN_IF_ERROR(readText(cuda->ptx_architecture(),
                                  named + ": PTX architecture", kMaxNameBytes,
                                  out.ptxArchitecture));
  if (!out.ptxArchitecture.empty() && !isSmArchitecture(out.ptxArchitecture))
    return invalid(named + ": PTX architecture '" + out.ptxArchitecture +
                   "' is not of the form sm_<major><minor>");
  if (out.cubinArchitectures.empty() && out.ptxArchitecture.empty())
    return invalid(named + ": no device code (neither cubin architectures "
                           "nor a PTX architecture)");
  WINNOW_RETURN_IF_ERROR(
      readStrings(cuda->kernels(), named, "kernel name", out.kernels));
  if (const auto *workspace = cuda->workspace_bytes())
    out.workspaceBytes.assign(workspace->begin(), workspace->end());
  for (const std::string &arch : out.cubinArchitectures)
    out.cubinArchitecturePointers.push_back(arch.c_str());
  for (const std::string &kernel : out.kernels)
    out.kernelPointers.push_back(kernel.c_str());
  return WINNOW_OK;
}

/// A CUDA target's workspace sizes: one per function, each -1 (unknown) or
/// a byte count; absent (older artifacts) reads as all unknown.
winnow_status checkWorkspaceSizes(TargetSpec &target, size_t index,
                                  const std::vector<FunctionSpec> &functions) {
  if (target.kind != WINNOW_TARGET_KIND_CUDA) {
    target.workspaceBytes.assign(functions.size(), 0);
    return WINNOW_OK;
  }
  if (target.workspaceBytes.empty()) {
    target.workspaceBytes.assign(functions.size(), -1);
    return WINNOW_OK;
  }
  std::string where = describeTarget(target, index);
  if (target.workspaceBytes.size() != functions.size())
    return invalid(where + " lists " +
                   std::to_string(target.workspaceBytes.size()) +
                   " workspace sizes for " + std::to_string(functions.size()) +
                   " functions");
  for (size_t i = 0; i < functions.size(); ++i)
    if (target.workspaceBytes[i] < -1 ||
        target.workspaceBytes[i] > kMaxWorkspaceBytes)
      return invalid(where + ": workspace size " +
                     std::to_string(target.workspaceBytes[i]) +
                     " of function '" + functions[i].name +
                     "' (expected -1 or 0.." +
                     std::to_string(kMaxWorkspaceBytes) + ")");
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
  WINNOW_RETURN_IF_ERROR(readText(cpu->triple(), where + " (cpu): triple",
                                  kMaxTextBytes, out.triple));
  if (out.triple.empty())
    return invalid(where + " (cpu): missing target triple");
  WINNOW_RETURN_IF_ERROR(
      readText(cpu->cpu(), where + " (cpu): cpu", kMaxTextBytes, out.cpu));
  if (!cpu->shared_object() || cpu->shared_object()->size() == 0)
    return invalid(where + " (cpu): missing shared object");
  out.binary = cpu->shared_object()->data();
  out.binarySize = cpu->shared_object()->size();
  return WINNOW_OK;
}

/// The ABI descriptor the manifest says `function`'s code was compiled for.
std::string expectedEntryAbi(const FunctionSpec &function) {
  support::EntryAbiWriter abi;
  for (const SymbolSpec &symbol : function.symbols)
    abi.addSymbol(symbol.name, symbol.bound);
  auto dims = [](const TensorSpec &spec) {
    return spec.dimSymbols.empty() ? nullptr : spec.dimSymbols.data();
  };
  for (const TensorSpec &input : function.inputs)
    abi.addInput(winnow_dtype_name(input.dtype), input.shape.data(),
                 input.shape.size(), dims(input));
  for (const TensorSpec &result : function.results)
    abi.addResult(winnow_dtype_name(result.dtype), result.shape.data(),
                  result.shape.size(), result.countResult, result.raggedAxis,
                  dims(result));
  return abi.str();
}

/// Reads the code of a CPU or CUDA target as data: every function's entry
/// point must be defined and its ABI descriptor must match the manifest,
/// and the code may describe no entry point the manifest does not list (a
/// manifest that lost functions is as damaged as one that changed them).
winnow_status verifyTargetCode(const TargetSpec &target, size_t index,
                               const std::vector<FunctionSpec> &functions) {
  std::string what = "the code of " + describeTarget(target, index);
  ElfImage image;
  WINNOW_RETURN_IF_ERROR(
      ElfImage::read(target.binary, target.binarySize, what, image));
  for (const FunctionSpec &function : functions) {
    std::string entry = support::kEntrySymbolPrefix + function.name;
    const ElfImage::Symbol *code = image.find(entry);
    if (!code || (code->type != STT_FUNC && code->type != STT_GNU_IFUNC))
      return invalid(what + " does not define the entry point '" + entry +
                     "' of function '" + function.name + "'");
    std::string abiName = support::kEntryAbiSymbolPrefix + function.name;
    const ElfImage::Symbol *abi = image.find(abiName);
    if (!abi || abi->type != STT_OBJECT)
      return invalid(what + " has no ABI descriptor '" + abiName +
                     "' for function '" + function.name +
                     "' (compiled by an older winnow-compile?)");
    // The string up to its NUL; what follows it in the symbol (padding, an
    // AddressSanitizer redzone in an instrumented test object) is not text.
    std::string_view text = abi->contents;
    size_t end = text.find('\0');
    if (end == std::string_view::npos)
      return invalid("the ABI descriptor '" + abiName + "' of " + what +
                     " is not a NUL-terminated string");
    text = text.substr(0, end);
    std::string expected = expectedEntryAbi(function);
    if (text != expected)
      return invalid("function '" + function.name +
                     "': the manifest describes '" + expected + "', but " +
                     what + " was compiled for '" + std::string(text) + "'");
  }
  std::set<std::string_view> listed;
  for (const FunctionSpec &function : functions)
    listed.insert(function.name);
  for (std::string_view symbol :
       image.namesStartingWith(support::kEntryAbiSymbolPrefix)) {
    std::string_view name =
        symbol.substr(std::string_view(support::kEntryAbiSymbolPrefix).size());
    if (!listed.count(name))
      return invalid(what + " defines the entry point '" + std::string(name) +
                     "', which the manifest does not list");
  }
  return WINNOW_OK;
}

/// Checks the whole-file SHA-256 (`digest` is the verified field).
winnow_status checkDigest(const uint8_t *bytes, size_t size,
                          const flatbuffers::Vector<uint8_t> *digest) {
  if (!digest)
    return corrupt("the artifact has no SHA-256 digest");
  if (digest->size() != support::kSha256Bytes)
    return corrupt("the SHA-256 digest is " + std::to_string(digest->size()) +
                   " bytes long, expected " +
                   std::to_string(support::kSha256Bytes));
  size_t offset = static_cast<size_t>(digest->data() - bytes);
  support::Sha256 actual = support::artifactDigest(bytes, size, offset);
  if (!support::digestsEqual(actual, digest->data()))
    return corrupt("SHA-256 digest mismatch: the file was changed or damaged "
                   "after winnow-compile wrote it");
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
  WINNOW_RETURN_IF_ERROR(checkDigest(bytes, size, artifact->sha256()));
  formatMajor = artifact->format_major();
  formatMinor = artifact->format_minor();
  WINNOW_RETURN_IF_ERROR(
      readText(artifact->producer(), "producer", kMaxTextBytes, producer));
  WINNOW_RETURN_IF_ERROR(readText(artifact->source_name(), "source name",
                                  kMaxTextBytes, sourceName));

  // winnow-compile refuses a module without an entry point; a manifest
  // without functions lost them.
  const auto *fns = artifact->functions();
  if (!fns || fns->size() == 0)
    return invalid("the manifest lists no functions");
  if (fns->size() > kMaxFunctions)
    return invalid(std::to_string(fns->size()) + " functions (at most " +
                   std::to_string(kMaxFunctions) + ")");
  functions.resize(fns->size());
  std::set<std::string> seen;
  for (flatbuffers::uoffset_t i = 0; i < fns->size(); ++i) {
    const fb::Function *fn = fns->Get(i);
    FunctionSpec &function = functions[i];
    WINNOW_RETURN_IF_ERROR(readName(fn->name(), "function " + std::to_string(i),
                                    function.name));
    if (!seen.insert(function.name).second)
      return invalid("duplicate function name '" + function.name + "'");
    std::string where = "function '" + function.name + "'";
    WINNOW_RETURN_IF_ERROR(readSymbols(fn->symbols(), where, function.symbols));
    WINNOW_RETURN_IF_ERROR(
        readTensorSpecs(fn->inputs(), where, false, function));
    WINNOW_RETURN_IF_ERROR(
        readTensorSpecs(fn->results(), where, true, function));
    WINNOW_RETURN_IF_ERROR(findSymbolBindings(function));
    WINNOW_RETURN_IF_ERROR(checkCountResults(function));
  }

  if (const auto *tgts = artifact->targets()) {
    if (tgts->size() > kMaxFunctions)
      return invalid(std::to_string(tgts->size()) + " targets (at most " +
                     std::to_string(kMaxFunctions) + ")");
    targets.resize(tgts->size());
    for (flatbuffers::uoffset_t i = 0; i < tgts->size(); ++i)
      WINNOW_RETURN_IF_ERROR(readTarget(tgts->Get(i), i, targets[i]));
  }
  for (size_t i = 0; i < targets.size(); ++i) {
    if (targets[i].kind != WINNOW_TARGET_KIND_UNKNOWN)
      WINNOW_RETURN_IF_ERROR(verifyTargetCode(targets[i], i, functions));
    WINNOW_RETURN_IF_ERROR(checkWorkspaceSizes(targets[i], i, functions));
  }
  return WINNOW_OK;
}

} // namespace winnow::runtime

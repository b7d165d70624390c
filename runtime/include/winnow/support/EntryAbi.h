//===- EntryAbi.h - The ABI descriptor of an artifact entry point -*- C++ -*-=//
//
// Every entry point `<name>` of an artifact's code defines, next to
// `__winnow_entry_<name>`, the NUL-terminated string
// `const char __winnow_abi_<name>[]` that says what the code was compiled
// for. The loader formats the same string from the manifest and refuses the
// artifact when they differ, so a manifest that does not describe its code
// (a damaged or hand-edited file, a compiler bug) is an error at load time
// instead of memory corruption at the first call.
//
// The spelling, e.g. for a top-k select over [2, 8] scores:
//   winnow-abi 1 (f32[2,8], i32[2]) -> (i32[2,4] count=1 axis=1, i32[2])
// (dtype names as in the artifact schema; count/axis only on ragged
// results). An entry point with dynamic extents lists its symbols and
// their bounds first, and names them where the extents are:
//   winnow-abi 1 [batch<=64] (f32[batch,8]) -> (i32[batch,4] count=1 axis=1)
// Header-only and dependency-free: the compiler (which must not link the
// runtime) and the runtime format it with this one function.
//
//===----------------------------------------------------------------------===//
#ifndef WINNOW_SUPPORT_ENTRYABI_H
#define WINNOW_SUPPORT_ENTRYABI_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace winnow::support {

inline constexpr char kEntrySymbolPrefix[] = "__winnow_entry_";
inline constexpr char kEntryAbiSymbolPrefix[] = "__winnow_abi_";
/// A pointer the CPU code exports and the runtime sets after loading it:
/// `void (*)(void (*task)(void *, int64_t, int64_t), void *ctx,
/// int64_t iterations, int64_t grain)`, the entry to its thread pool. Null
/// runs parallel loops serially.
inline constexpr char kParallelForSymbol[] = "__winnow_parallel_for";

/// Builds the descriptor of one entry point: its symbols, then all inputs,
/// then all results. `dimSymbols`, when not null, has one entry per extent:
/// the index (in addSymbol order) of the symbol a dynamic extent is, or -1.
class EntryAbiWriter {
public:
  void addSymbol(const std::string &name, int64_t bound) {
    symbolNames.push_back(name);
    if (!symbols.empty())
      symbols += ", ";
    symbols += name + "<=" + std::to_string(bound);
  }
  void addInput(const char *dtype, const int64_t *shape, size_t rank,
                const int32_t *dimSymbols = nullptr) {
    add(inputs, dtype, shape, rank, dimSymbols);
  }
  /// `countResult` is -1 for a tensor that is not ragged.
  void addResult(const char *dtype, const int64_t *shape, size_t rank,
                 int32_t countResult, int32_t raggedAxis,
                 const int32_t *dimSymbols = nullptr) {
    add(results, dtype, shape, rank, dimSymbols);
    if (countResult != -1)
      results += " count=" + std::to_string(countResult) +
                 " axis=" + std::to_string(raggedAxis);
  }
  std::string str() const {
    std::string head = "winnow-abi 1 ";
    if (!symbolNames.empty())
      head += "[" + symbols + "] ";
    return head + "(" + inputs + ") -> (" + results + ")";
  }

private:
  void add(std::string &list, const char *dtype, const int64_t *shape,
           size_t rank, const int32_t *dimSymbols) const {
    if (!list.empty())
      list += ", ";
    list += dtype;
    list += '[';
    for (size_t d = 0; d < rank; ++d) {
      if (d)
        list += ',';
      int32_t symbol = dimSymbols ? dimSymbols[d] : -1;
      if (symbol >= 0 && static_cast<size_t>(symbol) < symbolNames.size())
        list += symbolNames[symbol];
      else if (symbol >= 0)
        list += "?" + std::to_string(symbol); // never matches a valid one
      else
        list += std::to_string(shape[d]);
    }
    list += ']';
  }

  std::vector<std::string> symbolNames;
  std::string symbols;
  std::string inputs;
  std::string results;
};

} // namespace winnow::support

#endif // WINNOW_SUPPORT_ENTRYABI_H

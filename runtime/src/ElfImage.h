//===- ElfImage.h - Read the symbols of an in-memory shared object -------===//
//
// The loader reads an artifact's code as data before anything maps it: the
// ELF header, the section table and the dynamic symbol table, every offset
// and size bounds-checked against the image, so a damaged or hostile file
// gives an error here, never a read outside it. Only what the checks need is
// read: whether a symbol is defined, and the bytes of a data symbol.
//
//===----------------------------------------------------------------------===//
#ifndef WINNOW_RUNTIME_SRC_ELFIMAGE_H
#define WINNOW_RUNTIME_SRC_ELFIMAGE_H

#include "winnow/runtime/winnow_runtime.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace winnow::runtime {

class ElfImage {
public:
  /// Reads a 64-bit little-endian ELF shared object of `size` bytes; the
  /// bytes must outlive the image. `what` names it in messages.
  static winnow_status read(const uint8_t *bytes, size_t size,
                            const std::string &what, ElfImage &out);

  struct Symbol {
    /// STT_FUNC, STT_OBJECT, ...
    uint8_t type = 0;
    /// The symbol's bytes inside the image; empty for code symbols, whose
    /// size is not checked, and for zero-initialised data (.bss).
    std::string_view contents;
  };
  /// The defined dynamic symbol `name`, or null.
  const Symbol *find(std::string_view name) const;

  /// The names of the defined dynamic symbols that start with `prefix`.
  std::vector<std::string_view> namesStartingWith(std::string_view prefix) const;

private:
  std::unordered_map<std::string_view, Symbol> symbols;
};

} // namespace winnow::runtime

#endif // WINNOW_RUNTIME_SRC_ELFIMAGE_H

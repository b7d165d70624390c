//===- ElfImage.cpp - Read the symbols of an in-memory shared object -----===//

#include "ElfImage.h"
#include "Status.h"

#include <cstring>
#include <elf.h>

namespace winnow::runtime {
namespace {

/// A bounds-checked view of [offset, offset + size) of the image.
bool inImage(uint64_t offset, uint64_t size, size_t imageSize) {
  return offset <= imageSize && size <= imageSize - offset;
}

template <typename T> T load(const uint8_t *bytes, uint64_t offset) {
  T value;
  std::memcpy(&value, bytes + offset, sizeof(T));
  return value;
}

} // namespace

winnow_status ElfImage::read(const uint8_t *bytes, size_t size,
                             const std::string &what, ElfImage &out) {
  auto bad = [&](const std::string &detail) {
    return makeStatus(WINNOW_STATUS_DATA_LOSS,
                      "corrupt artifact: " + what +
                          " is not a readable shared object: " + detail);
  };
  if (size < sizeof(Elf64_Ehdr) || std::memcmp(bytes, ELFMAG, SELFMAG) != 0)
    return bad("missing ELF header");
  if (bytes[EI_CLASS] != ELFCLASS64 || bytes[EI_DATA] != ELFDATA2LSB)
    return bad("not a 64-bit little-endian ELF file");
  auto header = load<Elf64_Ehdr>(bytes, 0);
  if (header.e_type != ET_DYN)
    return bad("ELF type is " + std::to_string(header.e_type) +
               ", expected ET_DYN (shared object)");
  if (header.e_shentsize != sizeof(Elf64_Shdr) ||
      !inImage(header.e_shoff,
               static_cast<uint64_t>(header.e_shnum) * sizeof(Elf64_Shdr),
               size))
    return bad("the section header table is outside the file");
  auto section = [&](uint64_t index) {
    return load<Elf64_Shdr>(bytes, header.e_shoff + index * sizeof(Elf64_Shdr));
  };

  // The one dynamic symbol table and its string table.
  uint64_t dynsymIndex = 0;
  for (uint64_t i = 1; i < header.e_shnum; ++i) {
    if (section(i).sh_type != SHT_DYNSYM)
      continue;
    if (dynsymIndex)
      return bad("more than one dynamic symbol table");
    dynsymIndex = i;
  }
  if (!dynsymIndex)
    return bad("no dynamic symbol table");
  Elf64_Shdr dynsym = section(dynsymIndex);
  if (dynsym.sh_entsize != sizeof(Elf64_Sym) ||
      dynsym.sh_size % sizeof(Elf64_Sym) != 0 ||
      !inImage(dynsym.sh_offset, dynsym.sh_size, size))
    return bad("the dynamic symbol table is malformed or outside the file");
  if (dynsym.sh_link == 0 || dynsym.sh_link >= header.e_shnum)
    return bad("the dynamic symbol table has no string table");
  Elf64_Shdr strtab = section(dynsym.sh_link);
  if (strtab.sh_type != SHT_STRTAB ||
      !inImage(strtab.sh_offset, strtab.sh_size, size))
    return bad("the dynamic string table is malformed or outside the file");
  const char *names = reinterpret_cast<const char *>(bytes + strtab.sh_offset);

  ElfImage image;
  uint64_t count = dynsym.sh_size / sizeof(Elf64_Sym);
  for (uint64_t i = 1; i < count; ++i) {
    auto symbol = load<Elf64_Sym>(bytes, dynsym.sh_offset + i * sizeof(Elf64_Sym));
    if (symbol.st_shndx == SHN_UNDEF || symbol.st_shndx >= SHN_LORESERVE)
      continue; // Undefined, absolute or common: nothing of ours.
    if (symbol.st_name >= strtab.sh_size)
      return bad("symbol " + std::to_string(i) +
                 " has a name outside the string table");
    const char *name = names + symbol.st_name;
    size_t length = strnlen(name, strtab.sh_size - symbol.st_name);
    if (length == strtab.sh_size - symbol.st_name)
      return bad("symbol " + std::to_string(i) + " has an unterminated name");
    Symbol entry;
    entry.type = ELF64_ST_TYPE(symbol.st_info);
    if (entry.type == STT_OBJECT) {
      // A data symbol lies inside its section; its bytes, unless the
      // section is zero-initialised (.bss), inside the file.
      if (symbol.st_shndx >= header.e_shnum)
        return bad("symbol '" + std::string(name, length) +
                   "' is in a section that does not exist");
      Elf64_Shdr home = section(symbol.st_shndx);
      if (symbol.st_value < home.sh_addr ||
          !inImage(symbol.st_value - home.sh_addr, symbol.st_size,
                   home.sh_size))
        return bad("symbol '" + std::string(name, length) +
                   "' lies outside its section");
      if (home.sh_type != SHT_NOBITS) {
        if (!inImage(home.sh_offset, home.sh_size, size))
          return bad("the contents of symbol '" + std::string(name, length) +
                     "' are outside the file");
        entry.contents = std::string_view(
            reinterpret_cast<const char *>(bytes) + home.sh_offset +
                (symbol.st_value - home.sh_addr),
            symbol.st_size);
      }
    }
    image.symbols[std::string_view(name, length)] = entry;
  }
  out = std::move(image);
  return WINNOW_OK;
}

const ElfImage::Symbol *ElfImage::find(std::string_view name) const {
  auto it = symbols.find(name);
  return it == symbols.end() ? nullptr : &it->second;
}

std::vector<std::string_view>
ElfImage::namesStartingWith(std::string_view prefix) const {
  std::vector<std::string_view> names;
  for (const auto &entry : symbols)
    if (entry.first.substr(0, prefix.size()) == prefix)
      names.push_back(entry.first);
  return names;
}

} // namespace winnow::runtime

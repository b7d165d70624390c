//===- Npy.cpp - Read and write NumPy .npy files (hand-written, see Npy.h) ===//

#include "winnow/support/Npy.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>

namespace winnow::support {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
/// NumPy pads headers so the data starts 64-byte aligned.
constexpr size_t kHeaderAlignment = 64;

struct DescrEntry {
  const char *descr;
  size_t itemSize;
  std::optional<winnow_dtype> dtype;
};
const DescrEntry kDescrs[] = {
    {"<f4", 4, WINNOW_DTYPE_F32}, {"<f2", 2, WINNOW_DTYPE_F16},
    {"<f8", 8, WINNOW_DTYPE_F64}, {"|b1", 1, WINNOW_DTYPE_I1},
    {"|i1", 1, WINNOW_DTYPE_I8},  {"<i2", 2, WINNOW_DTYPE_I16},
    {"<i4", 4, WINNOW_DTYPE_I32}, {"<i8", 8, WINNOW_DTYPE_I64},
    {"<u2", 2, std::nullopt}, // raw bf16 bits
};

const DescrEntry *lookupDescr(const std::string &descr) {
  for (const DescrEntry &entry : kDescrs)
    if (descr == entry.descr)
      return &entry;
  return nullptr;
}

/// Parser for the Python dict literal NumPy writes as the header, e.g.
/// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class HeaderParser {
public:
  explicit HeaderParser(const std::string &text) : text(text) {}

  bool parse(std::string &descr, bool &fortranOrder,
             std::vector<int64_t> &shape, std::string &error) {
    bool haveDescr = false, haveOrder = false, haveShape = false;
    // Python keeps the last of two equal keys; a header that says two
    // things is damaged, not ambiguous to be resolved silently.
    std::set<std::string> seen;
    skipSpace();
    if (!consume('{'))
      return fail("expected '{' at the start of the header", error);
    for (;;) {
      skipSpace();
      if (consume('}'))
        break;
      std::string key;
      if (!parseString(key))
        return fail("expected a quoted key", error);
      skipSpace();
      if (!consume(':'))
        return fail("expected ':' after key '" + key + "'", error);
      skipSpace();
      if (!seen.insert(key).second)
        return fail("duplicate key '" + key + "'", error);
      if (key == "descr") {
        if (!parseString(descr))
          return fail("'descr' must be a string (structured dtypes are not "
                      "supported)",
                      error);
        haveDescr = true;
      } else if (key == "fortran_order") {
        if (!parseBool(fortranOrder))
          return fail("'fortran_order' must be True or False", error);
        haveOrder = true;
      } else if (key == "shape") {
        if (!parseShape(shape))
          return fail("'shape' must be a tuple of non-negative integers",
                      error);
        haveShape = true;
      } else {
        return fail("unexpected key '" + key + "'", error);
      }
      skipSpace();
      if (consume(','))
        continue;
      skipSpace();
      if (consume('}'))
        break;
      return fail("expected ',' or '}'", error);
    }
    if (!haveDescr || !haveOrder || !haveShape)
      return fail("header must have the keys 'descr', 'fortran_order' and "
                  "'shape'",
                  error);
    return true;
  }

private:
  bool fail(const std::string &message, std::string &error) {
    error = "malformed header: " + message + " (at offset " +
            std::to_string(pos) + ")";
    return false;
  }
  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' ||
                                 text[pos] == '\n' || text[pos] == '\r'))
      ++pos;
  }
  bool consume(char c) {
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  bool consumeWord(const char *word) {
    size_t n = std::strlen(word);
    if (text.compare(pos, n, word) != 0)
      return false;
    pos += n;
    return true;
  }
  bool parseString(std::string &out) {
    if (pos >= text.size() || (text[pos] != '\'' && text[pos] != '"'))
      return false;
    char quote = text[pos++];
    size_t end = text.find(quote, pos);
    if (end == std::string::npos)
      return false;
    out = text.substr(pos, end - pos);
    pos = end + 1;
    return true;
  }
  bool parseBool(bool &out) {
    if (consumeWord("True"))
      return out = true, true;
    if (consumeWord("False"))
      return out = false, true;
    return false;
  }
  bool parseShape(std::vector<int64_t> &shape) {
    shape.clear();
    if (!consume('('))
      return false;
    for (;;) {
      skipSpace();
      if (consume(')'))
        return true;
      if (pos >= text.size() || text[pos] < '0' || text[pos] > '9')
        return false;
      int64_t value = 0;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        int digit = text[pos++] - '0';
        if (value > (std::numeric_limits<int64_t>::max() - digit) / 10)
          return false;
        value = value * 10 + digit;
      }
      consume('L'); // Python 2 long suffix in old files.
      shape.push_back(value);
      skipSpace();
      if (consume(','))
        continue;
      skipSpace();
      if (consume(')'))
        return true;
      return false;
    }
  }

  const std::string &text;
  size_t pos = 0;
};

/// Normalises byte-order marks: '=' is native (little-endian on every host
/// we run on) and single-byte types have no byte order, so '<' / '=' / '>'
/// all mean '|' for them.
bool normalizeDescr(std::string &descr, std::string &error) {
  if (descr.size() < 3) {
    error = "unsupported dtype '" + descr + "'";
    return false;
  }
  char order = descr[0];
  std::string type = descr.substr(1);
  bool singleByte = type == "b1" || type == "i1" || type == "u1";
  if (singleByte) {
    descr = "|" + type;
  } else if (order == '>') {
    error = "big-endian dtype '" + descr +
            "' is not supported (convert with "
            "arr.astype(arr.dtype.newbyteorder('<')))";
    return false;
  } else if (order == '=' || order == '<') {
    descr = "<" + type;
  }
  if (!lookupDescr(descr)) {
    error = "unsupported dtype '" + descr +
            "' (supported: <f4 <f2 <f8 |b1 |i1 <i2 <i4 <i8, and <u2 for raw "
            "bf16 bits)";
    return false;
  }
  return true;
}

std::string formatShapeTuple(const std::vector<int64_t> &shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      text += ", ";
    text += std::to_string(shape[i]);
  }
  if (shape.size() == 1)
    text += ',';
  return text + ")";
}

void appendLittleEndian(std::vector<uint8_t> &out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

} // namespace

int64_t NpyArray::elementCount() const {
  int64_t count = 1;
  for (int64_t extent : shape)
    count *= extent;
  return count;
}

std::optional<winnow_dtype> dtypeFromNpyDescr(const std::string &descr) {
  const DescrEntry *entry = lookupDescr(descr);
  return entry ? entry->dtype : std::nullopt;
}

const char *npyDescrForDType(winnow_dtype dtype) {
  if (dtype == WINNOW_DTYPE_BF16)
    return kBFloat16BitsDescr;
  for (const DescrEntry &entry : kDescrs)
    if (entry.dtype && *entry.dtype == dtype)
      return entry.descr;
  return nullptr;
}

size_t npyItemSize(const std::string &descr) {
  const DescrEntry *entry = lookupDescr(descr);
  return entry ? entry->itemSize : 0;
}

bool parseNpy(const uint8_t *bytes, size_t size, NpyArray &out,
              std::string &error) {
  if (size < kMagicSize + 2 || std::memcmp(bytes, kMagic, kMagicSize) != 0) {
    error = "not a .npy file (missing \\x93NUMPY magic)";
    return false;
  }
  uint8_t major = bytes[6], minor = bytes[7];
  size_t lengthBytes;
  if (major == 1)
    lengthBytes = 2;
  else if (major == 2 || major == 3)
    lengthBytes = 4;
  else {
    error = "unsupported .npy format version " + std::to_string(major) + "." +
            std::to_string(minor);
    return false;
  }
  size_t prefix = kMagicSize + 2 + lengthBytes;
  if (size < prefix) {
    error = "truncated .npy header";
    return false;
  }
  size_t headerLength = 0;
  for (size_t i = 0; i < lengthBytes; ++i)
    headerLength |= static_cast<size_t>(bytes[kMagicSize + 2 + i]) << (8 * i);
  if (headerLength > size - prefix) {
    error = "truncated .npy header (header says " +
            std::to_string(headerLength) + " bytes, file has " +
            std::to_string(size - prefix) + ")";
    return false;
  }
  // Version 3.0 only allows UTF-8 in the header; our keys and values are
  // ASCII, so the same parser serves every version.
  std::string header(reinterpret_cast<const char *>(bytes + prefix),
                     headerLength);
  bool fortranOrder = false;
  NpyArray array;
  if (!HeaderParser(header).parse(array.descr, fortranOrder, array.shape,
                                  error))
    return false;
  if (fortranOrder) {
    error = "fortran_order=True is not supported (save a C-order array, e.g. "
            "np.ascontiguousarray)";
    return false;
  }
  if (!normalizeDescr(array.descr, error))
    return false;
  // As NumPy does, the non-zero extents times the item size must fit in a
  // signed 64-bit count even when another extent is 0: elementCount() and
  // every byte size derived from the shape are then free of overflow.
  size_t itemSize = npyItemSize(array.descr);
  uint64_t nonZeroBytes = itemSize;
  bool empty = false;
  for (int64_t extent : array.shape) {
    if (extent == 0) {
      empty = true;
      continue;
    }
    if (nonZeroBytes > static_cast<uint64_t>(
                           std::numeric_limits<int64_t>::max()) /
                           static_cast<uint64_t>(extent)) {
      error = "shape " + formatShapeTuple(array.shape) + " is too large";
      return false;
    }
    nonZeroBytes *= static_cast<uint64_t>(extent);
  }
  uint64_t expected = empty ? 0 : nonZeroBytes;
  size_t available = size - prefix - headerLength;
  if (available < expected) {
    error = "truncated data: shape " + formatShapeTuple(array.shape) + " of " +
            array.descr + " needs " + std::to_string(expected) +
            " bytes, file has " + std::to_string(available);
    return false;
  }
  if (available > expected) {
    error = "unexpected " + std::to_string(available - expected) +
            " trailing bytes after the data";
    return false;
  }
  const uint8_t *data = bytes + prefix + headerLength;
  array.data.assign(data, data + expected);
  out = std::move(array);
  return true;
}

bool readNpyFile(const std::string &path, NpyArray &out, std::string &error) {
  // A directory opens as a stream on Linux and fails only when read, with
  // a message that names no file.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    error = "cannot read '" + path + "': it is a directory, not an .npy file";
    return false;
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)),
                             std::istreambuf_iterator<char>());
  if (file.bad()) {
    error = "cannot read '" + path + "'";
    return false;
  }
  if (!parseNpy(bytes.data(), bytes.size(), out, error)) {
    error = path + ": " + error;
    return false;
  }
  return true;
}

std::vector<uint8_t> serializeNpy(const std::string &descr,
                                  const std::vector<int64_t> &shape,
                                  const void *data, size_t byteSize) {
  std::string header =
      "{'descr': '" + descr +
      "', 'fortran_order': False, 'shape': " + formatShapeTuple(shape) + ", }";
  int major = 1;
  size_t lengthBytes = 2;
  // Pad with spaces and end with '\n' so magic + header is 64-byte aligned.
  auto padTo = [&](size_t prefix) {
    size_t unpadded = prefix + header.size() + 1;
    size_t padding =
        (kHeaderAlignment - unpadded % kHeaderAlignment) % kHeaderAlignment;
    return header + std::string(padding, ' ') + "\n";
  };
  std::string padded = padTo(kMagicSize + 2 + lengthBytes);
  if (padded.size() > std::numeric_limits<uint16_t>::max()) {
    major = 2;
    lengthBytes = 4;
    padded = padTo(kMagicSize + 2 + lengthBytes);
  }
  std::vector<uint8_t> out(kMagic, kMagic + kMagicSize);
  out.push_back(static_cast<uint8_t>(major));
  out.push_back(0);
  appendLittleEndian(out, padded.size(), static_cast<int>(lengthBytes));
  out.insert(out.end(), padded.begin(), padded.end());
  const auto *begin = static_cast<const uint8_t *>(data);
  out.insert(out.end(), begin, begin + byteSize);
  return out;
}

bool writeNpyFile(const std::string &path, const std::string &descr,
                  const std::vector<int64_t> &shape, const void *data,
                  size_t byteSize, std::string &error) {
  std::vector<uint8_t> bytes = serializeNpy(descr, shape, data, byteSize);
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) {
    error = "cannot create '" + path + "': " + std::strerror(errno);
    return false;
  }
  file.write(reinterpret_cast<const char *>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  file.close();
  if (!file) {
    error = "cannot write '" + path + "'";
    return false;
  }
  return true;
}

} // namespace winnow::support

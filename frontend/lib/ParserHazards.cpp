//===- ParserHazards.cpp - Input upstream parsers would crash on ---------===//
//
// MLIR 22's linalg parsers read the `dimensions = [...]` of linalg.broadcast
// and linalg.reduce, and the `permutation = [...]` of linalg.transpose, with
// `DenseI64ArrayAttr::parse` and store its result without checking it: a
// malformed list (`[1x]`, `[a]`, `5`) is reported, and then the null
// attribute is dereferenced (SIGSEGV in NamedAttrList::set), in stock
// mlir-opt too. Until upstream checks it, such lists are rejected here
// before the parser runs. The check is deliberately a little stricter than
// the parser: a list of decimal integers that fit in int64; `array<...>`
// only inside a generic op's properties (`<{dimensions = array<i64: 1>}>`),
// where the (safe) attribute parser reads it: after the custom syntax's
// `dimensions =` even a well-formed `array<...>` reaches the same unchecked
// parse (the fuzzer found that).
//
//===----------------------------------------------------------------------===//

#include "ParserHazards.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"

#include <cctype>
#include <cstdint>
#include <limits>

using namespace mlir;

namespace winnow {
namespace {

bool isIdentifierChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         c == '$' || c == '.';
}

/// A cursor over the text that skips whitespace and `//` comments.
class Scanner {
public:
  explicit Scanner(StringRef text) : text(text) {}

  void skipSpaceAndComments() {
    while (pos < text.size()) {
      if (std::isspace(static_cast<unsigned char>(text[pos]))) {
        ++pos;
      } else if (text.substr(pos).starts_with("//")) {
        skipLine();
      } else {
        return;
      }
    }
  }
  void skipLine() {
    size_t end = text.find('\n', pos);
    pos = end == StringRef::npos ? text.size() : end + 1;
  }
  /// Past the closing quote of the string that starts at `pos`.
  void skipString() {
    for (++pos; pos < text.size(); ++pos) {
      if (text[pos] == '\\')
        ++pos;
      else if (text[pos] == '"' || text[pos] == '\n') {
        ++pos;
        return;
      }
    }
  }
  bool consume(char c) {
    if (pos < text.size() && text[pos] == c)
      return ++pos, true;
    return false;
  }
  /// An optional '-' and decimal digits that fit in int64.
  bool consumeInt64() {
    bool negative = consume('-');
    size_t start = pos;
    uint64_t magnitude = 0;
    uint64_t limit =
        static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) +
        (negative ? 1 : 0);
    while (pos < text.size() &&
           std::isdigit(static_cast<unsigned char>(text[pos]))) {
      unsigned digit = text[pos++] - '0';
      if (magnitude > (limit - digit) / 10)
        return false;
      magnitude = magnitude * 10 + digit;
    }
    return pos > start && (pos == text.size() || !isIdentifierChar(text[pos]));
  }
  /// `[` (int (`,` int)*)? `]`, the list after `[` was seen.
  bool consumeIntegerListBody() {
    skipSpaceAndComments();
    if (consume(']'))
      return true;
    for (;;) {
      skipSpaceAndComments();
      if (!consumeInt64())
        return false;
      skipSpaceAndComments();
      if (consume(']'))
        return true;
      if (!consume(','))
        return false;
    }
  }

  StringRef text;
  size_t pos = 0;
};

} // namespace

LogicalResult checkParserHazards(const llvm::SourceMgr &sourceMgr,
                                 unsigned bufferId, MLIRContext *context) {
  const llvm::MemoryBuffer *buffer = sourceMgr.getMemoryBuffer(bufferId);
  Scanner scanner(buffer->getBuffer());
  StringRef text = scanner.text;
  auto report = [&](size_t offset, StringRef keyword) {
    auto [line, column] = sourceMgr.getLineAndColumn(
        llvm::SMLoc::getFromPointer(text.data() + offset), bufferId);
    emitError(FileLineColLoc::get(context, buffer->getBufferIdentifier(), line,
                                  column))
        << "expected a list of decimal integers that fit in 64 bits after '"
        << keyword << " =', such as [0, 1]";
    return failure();
  };
  // Open braces: true for a generic op's properties `<{`, false for an
  // attribute dictionary or a region.
  SmallVector<bool> braces;
  while (scanner.pos < text.size()) {
    char c = text[scanner.pos];
    if (c == '"') {
      scanner.skipString();
      continue;
    }
    if (text.substr(scanner.pos).starts_with("//")) {
      scanner.skipLine();
      continue;
    }
    if (c == '{' || c == '}') {
      if (c == '{')
        braces.push_back(scanner.pos > 0 && text[scanner.pos - 1] == '<');
      else if (!braces.empty())
        braces.pop_back();
      ++scanner.pos;
      continue;
    }
    if (!isIdentifierChar(c) ||
        std::isdigit(static_cast<unsigned char>(c))) {
      ++scanner.pos;
      continue;
    }
    // An identifier that is not part of a %value, @symbol, ^block, #alias,
    // !type or a longer name.
    size_t start = scanner.pos;
    while (scanner.pos < text.size() && isIdentifierChar(text[scanner.pos]))
      ++scanner.pos;
    char before = start ? text[start - 1] : ' ';
    StringRef word = text.slice(start, scanner.pos);
    if (StringRef("%@^#!").contains(before) ||
        (word != "dimensions" && word != "permutation"))
      continue;
    scanner.skipSpaceAndComments();
    if (!scanner.consume('='))
      continue;
    scanner.skipSpaceAndComments();
    size_t valueStart = scanner.pos;
    bool inProperties = !braces.empty() && braces.back();
    if (inProperties && text.substr(valueStart).starts_with("array<"))
      continue;
    if (!scanner.consume('[') || !scanner.consumeIntegerListBody())
      return report(valueStart, word);
  }
  return success();
}

} // namespace winnow

//===- Printing.h - winnow-run's signature and result printing -----------===//
#ifndef WINNOW_TOOLS_WINNOW_RUN_PRINTING_H
#define WINNOW_TOOLS_WINNOW_RUN_PRINTING_H

#include "HostTensor.h"
#include "RunTool.h"

#include <iosfwd>

namespace winnow::run {

/// "func @f(x: 2x3xf32) -> (i: 2x4xi32 [count: result 1], c: 2xi32)";
/// dynamic extents by their symbol's name ("x: batchx3xf32").
/// Returns false (with the runtime's message) if the module cannot answer.
bool formatSignature(const winnow_module *module, size_t functionIndex,
                     std::string &text, std::string &error);

/// "batchx3xf32": formatType with dynamic extents by their symbol's name.
std::string formatSpecType(const winnow_module *module, size_t functionIndex,
                           const winnow_tensor_spec &spec);

/// "batch <= 64, n <= 5": the function's symbols and bounds ("" for none).
bool formatSymbols(const winnow_module *module, size_t functionIndex,
                   std::string &text, std::string &error);

/// Prints one result as --help documents. `counts` is the count tensor of a
/// ragged result (padded along `raggedAxis`), else null.
void printResult(std::ostream &out, const std::string &name,
                 const HostTensor &tensor, const HostTensor *counts,
                 int32_t raggedAxis, PrintMode mode);

} // namespace winnow::run

#endif // WINNOW_TOOLS_WINNOW_RUN_PRINTING_H

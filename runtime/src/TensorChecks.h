//===- TensorChecks.h - Check call arguments against a signature ---------===//
#ifndef WINNOW_RUNTIME_SRC_TENSORCHECKS_H
#define WINNOW_RUNTIME_SRC_TENSORCHECKS_H

#include "Module.h"

namespace winnow::runtime {

/// Checks every input and output of a call against `function` without
/// writing anything, and reading only i1 input bytes (to check they are 0/1).
winnow_status checkCallArguments(const FunctionSpec &function,
                                 const winnow_tensor *inputs, size_t numInputs,
                                 const winnow_tensor *outputs,
                                 size_t numOutputs);

} // namespace winnow::runtime

#endif // WINNOW_RUNTIME_SRC_TENSORCHECKS_H

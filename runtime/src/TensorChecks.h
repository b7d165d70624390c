//===- TensorChecks.h - Check call arguments against a signature ---------===//
#ifndef WINNOW_RUNTIME_SRC_TENSORCHECKS_H
#define WINNOW_RUNTIME_SRC_TENSORCHECKS_H

#include "Module.h"

namespace winnow::runtime {

/// Where a call's tensors live: host tensors are copied to the device by the
/// runtime, device tensors are passed to the code as they are.
enum class TensorMemory { Host, Device };

/// Only the numbers of inputs and outputs (the first check of
/// checkCallArguments).
winnow_status checkArgumentCounts(const FunctionSpec &function,
                                  size_t numInputs, size_t numOutputs);

/// Binds `function`'s symbols from the inputs' shapes into `values` (one
/// per symbol), checking the number of inputs, their ranks and every extent
/// as checkCallArguments does; nothing else of the tensors is read.
winnow_status bindSymbols(const FunctionSpec &function,
                          const winnow_tensor *inputs, size_t numInputs,
                          int64_t *values);

/// Checks every input and output of a call against `function` without
/// writing anything, and reading only i1 input bytes (to check they are 0/1)
/// of host tensors.
winnow_status checkCallArguments(const FunctionSpec &function,
                                 const winnow_tensor *inputs, size_t numInputs,
                                 const winnow_tensor *outputs,
                                 size_t numOutputs, TensorMemory memory);

} // namespace winnow::runtime

#endif // WINNOW_RUNTIME_SRC_TENSORCHECKS_H

//===- EntryArguments.h - MLIR memref descriptors for an entry call ------===//
//
// Every target's entry point takes `void **args`, one pointer per input then
// per result to an MLIR strided memref descriptor:
//   { void *allocated; void *aligned; int64_t offset;
//     int64_t sizes[R]; int64_t strides[R]; }
// Tensors are dense row-major, so offset is 0 and strides are suffix
// products of the extents. The data pointers are host or device pointers,
// whatever the target expects.
//
//===----------------------------------------------------------------------===//
#ifndef WINNOW_RUNTIME_SRC_ENTRYARGUMENTS_H
#define WINNOW_RUNTIME_SRC_ENTRYARGUMENTS_H

#include "winnow/runtime/winnow_runtime.h"

#include <cstdint>
#include <vector>

namespace winnow::runtime {

/// The descriptors of one call. They live on this call's heap, so
/// concurrent calls share nothing.
class EntryArguments {
public:
  EntryArguments(const winnow_tensor *inputs, size_t numInputs,
                 const winnow_tensor *outputs, size_t numOutputs);
  void **data() { return pointers.data(); }

private:
  std::vector<int64_t> words;
  std::vector<void *> pointers;
};

} // namespace winnow::runtime

#endif // WINNOW_RUNTIME_SRC_ENTRYARGUMENTS_H

//===- EntryArguments.cpp - MLIR memref descriptors for an entry call ----===//

#include "EntryArguments.h"

namespace winnow::runtime {
namespace {

static_assert(sizeof(void *) == sizeof(int64_t),
              "descriptor layout assumes 64-bit pointers");

size_t descriptorWords(size_t rank) { return 3 + 2 * rank; }

void writeDescriptor(const winnow_tensor &tensor, int64_t *words) {
  words[0] = reinterpret_cast<intptr_t>(tensor.data); // allocated
  words[1] = reinterpret_cast<intptr_t>(tensor.data); // aligned
  words[2] = 0;                                       // offset
  int64_t *sizes = words + 3;
  int64_t *strides = words + 3 + tensor.rank;
  int64_t stride = 1;
  for (size_t d = tensor.rank; d-- > 0;) {
    sizes[d] = tensor.shape[d];
    strides[d] = stride;
    stride *= tensor.shape[d];
  }
}

} // namespace

EntryArguments::EntryArguments(const winnow_tensor *inputs, size_t numInputs,
                               const winnow_tensor *outputs,
                               size_t numOutputs) {
  size_t numArgs = numInputs + numOutputs;
  auto tensorAt = [&](size_t i) -> const winnow_tensor & {
    return i < numInputs ? inputs[i] : outputs[i - numInputs];
  };
  size_t totalWords = 0;
  for (size_t i = 0; i < numArgs; ++i)
    totalWords += descriptorWords(tensorAt(i).rank);
  // Sized once, so the pointers into `words` stay valid.
  words.resize(totalWords);
  pointers.resize(numArgs);
  size_t next = 0;
  for (size_t i = 0; i < numArgs; ++i) {
    pointers[i] = &words[next];
    writeDescriptor(tensorAt(i), &words[next]);
    next += descriptorWords(tensorAt(i).rank);
  }
}

} // namespace winnow::runtime

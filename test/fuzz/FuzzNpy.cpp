//===- FuzzNpy.cpp - Fuzz target: .npy bytes -> parse -> write -> parse --===//
//
// Whatever the reader accepts must be written back by the writer and read
// again to the same array.
//
//===----------------------------------------------------------------------===//

#include "winnow/support/Npy.h"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace winnow::support;
  NpyArray array;
  std::string error;
  if (!parseNpy(data, size, array, error)) {
    if (error.empty())
      std::abort();
    return 0;
  }
  if (array.elementCount() < 0)
    std::abort();
  std::vector<uint8_t> written = serializeNpy(
      array.descr, array.shape, array.data.data(), array.data.size());
  NpyArray again;
  if (!parseNpy(written.data(), written.size(), again, error) ||
      again.descr != array.descr || again.shape != array.shape ||
      again.data != array.data)
    std::abort();
  return 0;
}

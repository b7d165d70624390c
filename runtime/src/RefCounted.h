//===- RefCounted.h - Atomic reference count shared by API objects -------===//
#ifndef WINNOW_RUNTIME_SRC_REFCOUNTED_H
#define WINNOW_RUNTIME_SRC_REFCOUNTED_H

#include <atomic>
#include <cstdint>

namespace winnow::runtime {

/// Intrusive count for objects handed out through the C API. Objects start
/// with one reference owned by the creator.
class RefCount {
public:
  void retain() { count.fetch_add(1, std::memory_order_relaxed); }
  /// Returns true when the last reference was dropped.
  bool release() {
    // acq_rel so the thread that destroys the object sees every write made
    // by the threads that released before it.
    return count.fetch_sub(1, std::memory_order_acq_rel) == 1;
  }

private:
  std::atomic<int64_t> count{1};
};

} // namespace winnow::runtime

#endif // WINNOW_RUNTIME_SRC_REFCOUNTED_H

//===- KernelReport.h - A static performance model of GPU launches -*- C++ -*-===//
//
// What winnow-compile --kernel-report writes: for every entry point, every
// kernel launch with its grid and block, the bytes it moves, its FLOPs, the
// busiest thread's chain of dependent global loads, and a model estimate of
// its time with each term. The model is defined in docs/cuda.md
// ("Performance model"); it reads the host code and kernels at the `gpu`
// phase (after outlining, before NVVM), where launches, loops and memory
// accesses are still structured.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_TARGET_KERNELREPORT_H
#define WINNOW_TARGET_KERNELREPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"

#include <string>
#include <vector>

namespace winnow {

/// The per-card constants of the model (docs/cuda.md lists their sources).
struct DeviceModel {
  std::string name;
  /// Measured device-to-device copy bandwidth, bytes per second.
  double copyBandwidth = 0;
  int64_t smCount = 0;
  /// SM clock, Hz.
  double clockHz = 0;
  /// FP32 (non-tensor) FLOPs per second.
  double fp32Flops = 0;
  /// One kernel node inside a CUDA graph, seconds.
  double graphLaunchSeconds = 0;
  /// The shortest a kernel that does anything runs, seconds.
  double minKernelSeconds = 0;
  /// One dependent global load from DRAM, seconds.
  double globalLatencySeconds = 0;
  /// One dependent global load that hits L2 (a buffer read many times
  /// over), seconds.
  double cachedLatencySeconds = 0;
  /// One dependent shared-memory load or L1 hit, seconds.
  double sharedLatencySeconds = 0;
  /// Iterations a loop with a compile-time trip count is unrolled by, so
  /// their loads are in flight together.
  int64_t unroll = 4;
  /// Independent global loads one thread keeps in flight.
  int64_t loadsInFlight = 8;
};

/// The model's constants for "h200" or "h100"; nullopt for another name.
std::optional<DeviceModel> deviceModel(llvm::StringRef name);

/// Registers, spills and static shared memory of one kernel (ptxas -v).
struct KernelResources {
  int64_t registers = -1;
  int64_t spillStoreBytes = 0;
  int64_t spillLoadBytes = 0;
  int64_t sharedBytes = 0;
  int64_t stackBytes = 0;
};

struct LaunchReport {
  std::string kernel; // "<module>::<function>"
  /// "file:line:col" of the first source location in the kernel (the tok
  /// op it was lowered from).
  std::string source;
  int64_t grid[3] = {1, 1, 1};
  int64_t block[3] = {1, 1, 1};
  int64_t threads = 0;
  /// Threads that pass the kernel's bounds guard (`if linear < N`).
  int64_t activeThreads = 0;
  /// Global-memory traffic, each buffer's accesses capped at its size.
  int64_t bytesRead = 0;
  int64_t bytesWritten = 0;
  /// Fraction of the accessed global bytes moved by 16-byte accesses.
  double vector16Fraction = 0;
  int64_t flops = 0;
  /// The busiest thread: steps of dependent DRAM / cached (L2) / shared
  /// loads, and instructions issued.
  double globalChain = 0;
  double cachedChain = 0;
  double l1Chain = 0;
  double sharedChain = 0;
  double busiestInstructions = 0;
  double warpInstructions = 0;
  /// False when a loop bound could not be bounded statically (the chain
  /// counts such a loop once; a note names it).
  bool exact = true;
  /// The model's terms and estimate, seconds.
  double floorSeconds = 0, bandwidthSeconds = 0, computeSeconds = 0,
         chainSeconds = 0, issueSeconds = 0, estimateSeconds = 0;
  std::string bound; // the largest term's name
  std::vector<std::string> notes;
  std::optional<KernelResources> resources;
};

struct EntryReport {
  std::string name;
  std::vector<LaunchReport> launches;
  double estimateSeconds = 0;
};

struct KernelReport {
  DeviceModel device;
  std::vector<EntryReport> entries;
};

/// Analyses the host functions and kernels of `module` at the `gpu` phase.
mlir::FailureOr<KernelReport> analyzeKernels(mlir::ModuleOp module,
                                             const DeviceModel &device);

/// Adds the per-kernel resources of one architecture's `ptxas -v` output.
void attachPtxasResources(KernelReport &report, llvm::StringRef ptxasLog);

llvm::json::Value toJson(const KernelReport &report);

} // namespace winnow

#endif // WINNOW_TARGET_KERNELREPORT_H

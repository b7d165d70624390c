// winnow-compile --kernel-report: per launch, grid and block, bytes, chain,
// the model's terms and estimate (docs/cuda.md, "Performance model").
// RUN: winnow-compile %s --target=cuda --compile-to=gpu -o %t.mlir --kernel-report=%t.json
// RUN: FileCheck %s --input-file=%t.json
// RUN: winnow-compile %s --target=cuda --compile-to=gpu -o %t.mlir --kernel-report=%t.h100.json --kernel-report-device=h100
// RUN: FileCheck %s --check-prefix=H100 --input-file=%t.h100.json
// RUN: not winnow-compile %s --kernel-report=%t.cpu.json -o %t.wnn 2>&1 | FileCheck %s --check-prefix=NOCUDA
// RUN: not winnow-compile %s --target=cuda --kernel-report=%t.x.json --kernel-report-device=a100 -o %t.wnn 2>&1 | FileCheck %s --check-prefix=DEVICE

// Objects print with sorted keys.
// CHECK: "copy_bandwidth_gbps": 4200
// CHECK: "name": "H200"
// The element-wise negation of 2 x 64 x 32 bf16: one thread per element,
// 16 blocks of 256, each thread one load: floor-bound.
// CHECK: "block": [
// CHECK-NEXT: 256,
// CHECK: "bound": "floor",
// CHECK: "bytes_read": 8192,
// CHECK-NEXT: "bytes_written": 8192,
// CHECK: "chain_global_loads": 1,
// CHECK-NEXT: "estimate_us": 2.04,
// CHECK: "grid": [
// CHECK-NEXT: 16,
// CHECK: "kernel": "copy_kernel::copy_kernel",
// CHECK-NEXT: "source": "{{.*}}kernel-report.mlir:{{[0-9]+}}:{{[0-9]+}}"
// CHECK: "name": "copy"
// The select: one block of 256 threads per row. A thread's 8 score loads
// go out together (one step; threads past the 64 tokens read a valid one,
// so the scores are read more often than their size: L2), then the radix
// select's digit passes and the block scans run in shared memory.
// CHECK: "chain": {
// CHECK-NEXT: "dram": 0,
// CHECK-NEXT: "l1": 0,
// CHECK-NEXT: "l2": 1,
// CHECK-NEXT: "shared": 39
// CHECK: "grid": [
// CHECK-NEXT: 2,
// CHECK: "kernel": "copy_kernel::prune_kernel",
// CHECK: "name": "prune"
// scatter_merge walks each output row's members (a CSR segment of the
// inverted parent map): the trips depend on the data, so the model counts
// the average segment and says so.
// CHECK: a CSR segment's length depends on the data; counted as the average segment
// CHECK: "name": "merge"
// CHECK: "model": "docs/cuda.md#performance-model"
// H100: "copy_bandwidth_gbps": 3350
// H100: "name": "H100"
// NOCUDA: error: --kernel-report describes GPU launches; pass --target=cuda (or cpu,cuda)
// DEVICE: error: unknown --kernel-report-device 'a100'; expected h200 or h100

func.func @copy(%x: tensor<2x64x32xbf16>) -> tensor<2x64x32xbf16> {
  %y = arith.negf %x : tensor<2x64x32xbf16>
  return %y : tensor<2x64x32xbf16>
}

func.func @prune(%s: tensor<2x64xf32>) -> (tensor<2x16xi32>, tensor<2xi32>) {
  %i, %n = tok.select #tok.top_k<16> of %s : (tensor<2x64xf32>) -> (tensor<2x16xi32>, tensor<2xi32>)
  return %i, %n : tensor<2x16xi32>, tensor<2xi32>
}

func.func @merge(%p: tensor<2x9xi32>, %n: tensor<2xi32>, %x: tensor<2x9x64xf32>) -> (tensor<2x6x64xf32>, tensor<2x6xf32>) {
  %m, %s = tok.scatter_merge %p, %n gather(%x) : (tensor<2x9xi32>, tensor<2xi32>, tensor<2x9x64xf32>) -> (tensor<2x6x64xf32>, tensor<2x6xf32>)
  return %m, %s : tensor<2x6x64xf32>, tensor<2x6xf32>
}

//===- CollectiveOps.cpp - Warp and block collectives ---------------------===//

#include "winnow/Dialect/Collective/IR/CollectiveOps.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace winnow::collective;

#include "winnow/Dialect/Collective/IR/CollectiveEnums.cpp.inc"
#include "winnow/Dialect/Collective/IR/CollectiveOpsDialect.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "winnow/Dialect/Collective/IR/CollectiveAttrs.cpp.inc"
#define GET_OP_CLASSES
#include "winnow/Dialect/Collective/IR/CollectiveOps.cpp.inc"

void CollectiveDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "winnow/Dialect/Collective/IR/CollectiveAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "winnow/Dialect/Collective/IR/CollectiveOps.cpp.inc"
      >();
}

/// A collective is executed by the threads of a kernel: it must sit in a
/// `gpu.launch` body or a `gpu.func` kernel.
static LogicalResult verifyInKernel(Operation *op) {
  if (op->getParentOfType<gpu::LaunchOp>() ||
      op->getParentOfType<gpu::GPUFuncOp>())
    return success();
  return op->emitOpError("must be inside a gpu.launch or gpu.func: it is "
                         "executed by the threads of a block");
}

LogicalResult WarpReduceOp::verify() { return verifyInKernel(*this); }
LogicalResult BlockReduceOp::verify() { return verifyInKernel(*this); }
LogicalResult WarpArgMaxOp::verify() { return verifyInKernel(*this); }
LogicalResult BlockArgMaxOp::verify() { return verifyInKernel(*this); }
LogicalResult BlockExclusiveScanOp::verify() { return verifyInKernel(*this); }
LogicalResult BlockRadixSelectOp::verify() { return verifyInKernel(*this); }
LogicalResult BlockBarrierOp::verify() { return verifyInKernel(*this); }

LogicalResult GridArriveOp::verify() {
  auto type = cast<MemRefType>(getCounters().getType());
  if (gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(type))
    return emitOpError("counters must be in global memory: they are shared "
                       "by the blocks of the grid, got ")
           << type;
  return verifyInKernel(*this);
}

LogicalResult BlockHistogramOp::verify() {
  auto type = cast<MemRefType>(getHistogram().getType());
  if (!gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(type))
    return emitOpError("histogram must be in workgroup memory "
                       "(#gpu.address_space<workgroup>), got ")
           << type;
  if (!type.hasStaticShape())
    return emitOpError("histogram must have a static number of bins, got ")
           << type;
  return verifyInKernel(*this);
}

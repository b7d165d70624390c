//===- LowerParallelLaunches.cpp - The tok-lower-parallel-launches pass ---===//
//
// Defines the launch functions tok-outline-parallel-loops declared: pack the
// captured values into a context struct, hand a task function to the
// runtime's thread pool through the exported pointer (see the pass
// description and winnow/support/EntryAbi.h).
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "winnow/Transforms/Passes.h"
#include "winnow/support/EntryAbi.h"

namespace winnow {
#define GEN_PASS_DEF_TOKLOWERPARALLELLAUNCHES
#include "winnow/Transforms/Passes.h.inc"
} // namespace winnow

using namespace mlir;

namespace winnow {
namespace {

struct TokLowerParallelLaunchesPass
    : impl::TokLowerParallelLaunchesBase<TokLowerParallelLaunchesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<LLVM::LLVMFuncOp> launches;
    for (auto function : module.getOps<LLVM::LLVMFuncOp>())
      if (function->hasAttr(kParallelBodyAttr))
        launches.push_back(function);
    if (launches.empty())
      return;
    SymbolTable symbols(module);
    LLVM::GlobalOp pool = getOrCreatePoolPointer(module, symbols);
    if (!pool)
      return signalPassFailure();
    for (LLVM::LLVMFuncOp launch : launches)
      if (failed(define(launch, pool, symbols)))
        return signalPassFailure();
  }

  /// `@__winnow_parallel_for`: an exported, writable null pointer.
  LLVM::GlobalOp getOrCreatePoolPointer(ModuleOp module, SymbolTable &symbols) {
    auto ptrType = LLVM::LLVMPointerType::get(&getContext());
    if (Operation *existing = symbols.lookup(support::kParallelForSymbol)) {
      auto global = dyn_cast<LLVM::GlobalOp>(existing);
      if (!global || global.getGlobalType() != ptrType ||
          global.getConstant()) {
        existing->emitError() << "'" << support::kParallelForSymbol
                              << "' is reserved for the runtime's thread "
                                 "pool pointer";
        return nullptr;
      }
      return global;
    }
    OpBuilder builder = OpBuilder::atBlockBegin(module.getBody());
    auto global = LLVM::GlobalOp::create(
        builder, module.getLoc(), ptrType, /*isConstant=*/false,
        LLVM::Linkage::External, support::kParallelForSymbol, Attribute());
    Block *init = builder.createBlock(&global.getInitializerRegion());
    builder.setInsertionPointToStart(init);
    Value null = LLVM::ZeroOp::create(builder, module.getLoc(), ptrType);
    LLVM::ReturnOp::create(builder, module.getLoc(), null);
    symbols.insert(global);
    return global;
  }

  LogicalResult define(LLVM::LLVMFuncOp launch, LLVM::GlobalOp pool,
                       SymbolTable &symbols) {
    MLIRContext *ctx = &getContext();
    Location loc = launch.getLoc();
    auto bodyName = launch->getAttrOfType<FlatSymbolRefAttr>(kParallelBodyAttr);
    auto body = bodyName ? symbols.lookup<LLVM::LLVMFuncOp>(bodyName.getValue())
                         : LLVM::LLVMFuncOp();
    LLVM::LLVMFunctionType type = launch.getFunctionType();
    if (!launch.isExternal() || !body || body.isExternal() ||
        body.getFunctionType() != type || type.getNumParams() < 2)
      return launch.emitError()
             << "expected a declared launch whose '" << kParallelBodyAttr
             << "' names a defined function of the same type";
    auto ptrType = LLVM::LLVMPointerType::get(ctx);
    auto voidType = LLVM::LLVMVoidType::get(ctx);
    Type countType = type.getParamType(0);
    ArrayRef<Type> fieldTypes = type.getParams().drop_front(2);
    auto contextType = LLVM::LLVMStructType::getLiteral(ctx, fieldTypes);
    auto taskType =
        LLVM::LLVMFunctionType::get(voidType, {ptrType, countType, countType});

    // The task: load the fields, run the body on [begin, end).
    OpBuilder builder(launch);
    auto task =
        LLVM::LLVMFuncOp::create(builder, loc, body.getName().str() + "_task",
                                 taskType, LLVM::Linkage::Internal);
    symbols.insert(task);
    builder.setInsertionPointToStart(task.addEntryBlock(builder));
    SmallVector<Value> arguments = {task.getArgument(1), task.getArgument(2)};
    for (auto [index, fieldType] : llvm::enumerate(fieldTypes)) {
      Value address = LLVM::GEPOp::create(
          builder, loc, ptrType, contextType, task.getArgument(0),
          ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(index)});
      arguments.push_back(
          LLVM::LoadOp::create(builder, loc, fieldType, address));
    }
    LLVM::CallOp::create(builder, loc, body, arguments);
    LLVM::ReturnOp::create(builder, loc, ValueRange());

    // The launch: store the fields, then the pool or, without one, inline.
    Block *entry = launch.addEntryBlock(builder);
    Block *serial = builder.createBlock(&launch.getBody());
    Block *parallel = builder.createBlock(&launch.getBody());
    builder.setInsertionPointToStart(entry);
    Value context;
    if (fieldTypes.empty()) {
      context = LLVM::ZeroOp::create(builder, loc, ptrType);
    } else {
      Value one = LLVM::ConstantOp::create(builder, loc, builder.getI64Type(),
                                           builder.getI64IntegerAttr(1));
      context = LLVM::AllocaOp::create(builder, loc, ptrType, contextType, one);
      for (auto [index, field] :
           llvm::enumerate(entry->getArguments().drop_front(2))) {
        Value address = LLVM::GEPOp::create(
            builder, loc, ptrType, contextType, context,
            ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(index)});
        LLVM::StoreOp::create(builder, loc, field, address);
      }
    }
    Value poolAddress = LLVM::AddressOfOp::create(builder, loc, pool);
    Value parallelFor =
        LLVM::LoadOp::create(builder, loc, ptrType, poolAddress);
    Value null = LLVM::ZeroOp::create(builder, loc, ptrType);
    Value noPool = LLVM::ICmpOp::create(builder, loc, LLVM::ICmpPredicate::eq,
                                        parallelFor, null);
    LLVM::CondBrOp::create(builder, loc, noPool, serial, parallel);

    Value iterations = entry->getArgument(0), grain = entry->getArgument(1);
    builder.setInsertionPointToStart(serial);
    Value zero = LLVM::ConstantOp::create(builder, loc, countType,
                                          builder.getIntegerAttr(countType, 0));
    LLVM::CallOp::create(builder, loc, task,
                         ValueRange{context, zero, iterations});
    LLVM::ReturnOp::create(builder, loc, ValueRange());

    builder.setInsertionPointToStart(parallel);
    Value taskAddress = LLVM::AddressOfOp::create(builder, loc, task);
    auto parallelForType = LLVM::LLVMFunctionType::get(
        voidType, {ptrType, ptrType, countType, countType});
    LLVM::CallOp::create(
        builder, loc, parallelForType,
        ValueRange{parallelFor, taskAddress, context, iterations, grain});
    LLVM::ReturnOp::create(builder, loc, ValueRange());

    launch->removeAttr(kParallelBodyAttr);
    launch.setLinkage(LLVM::Linkage::Internal);
    return success();
  }
};

} // namespace
} // namespace winnow

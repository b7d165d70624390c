//===- TokInterfaces.td - What passes ask of tok ops ---------*- tablegen -*-===//
//
// Passes query these instead of lists of op classes: a new op declares in
// ODS whether it can be fused row by row and which of its results are
// ragged, and every pass that cares sees it.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_DIALECT_TOK_IR_TOKINTERFACES_TD
#define WINNOW_DIALECT_TOK_IR_TOKINTERFACES_TD

include "mlir/IR/OpBase.td"

def Tok_RowLocalOpInterface : OpInterface<"RowLocalOpInterface"> {
  let cppNamespace = "::winnow::tok";
  let description = [{
    An op whose every result row depends only on the same row of each
    operand: all of its tensors lead with the batch axis. Such an op can run
    inside a `tok.dispatch`, one row at a time, so
    `tok-form-dispatch-regions` may fuse it with its neighbours, and the
    fusion cost model asks it how many bytes it reads.
  }];
  let methods = [
    InterfaceMethod<[{
        Whether this op is row-local as built (an op may be row-local only
        for some operand layouts).
      }], "bool", "isRowLocal", (ins), "", "return true;">,
    InterfaceMethod<[{
        Bytes this op reads of `operand` when it runs alone (default: the
        whole operand; a gather reads only the rows it keeps).
      }], "int64_t", "getReadBytes", (ins "::mlir::OpOperand &":$operand),
      "", "return ::winnow::tok::shapedBytes(operand.get().getType());">,
    InterfaceMethod<[{
        Whether `consumer`, the only user of this op's result, can take that
        result streamed, never stored: the pair is then lowered in one sweep
        inside a dispatch.
      }], "bool", "canStreamInto", (ins "::mlir::Operation *":$consumer), "",
      "return false;">,
    InterfaceMethod<[{
        Whether this op may join a `tok.dispatch` on the GPU. A dispatch runs
        each row on one thread block whose threads share the row's parallel
        loops; an op whose own GPU form spreads one row's work much wider
        (a warp per token of a quadratic loop) says false, so the fusion
        model, which weighs bytes and launches only, never trades that form
        for the per-row one.
      }], "bool", "fusesOnGpu", (ins), "", "return true;">,
    InterfaceMethod<[{
        The independent tasks this op's CPU form shares among the threads
        when it runs on its own, outside a `tok.dispatch` (default: one per
        batch row). A dispatch of several rows runs one task per row, so
        the CPU fusion model weighs an op that spreads wider (kv_select and
        kv_gather: one task per row and head) against the bytes fusing it
        saves.
      }], "int64_t", "getCpuTasks", (ins), "", [{
        auto type = ::llvm::dyn_cast<::mlir::ShapedType>(
            $_op->getResult(0).getType());
        if (!type || !type.hasRank() || type.getRank() == 0)
          return 1;
        return std::max<int64_t>(1, type.getDimSize(0));
      }]>,
  ];
}

def Tok_RaggedResultOpInterface : OpInterface<"RaggedResultOpInterface"> {
  let cppNamespace = "::winnow::tok";
  let description = [{
    An op with ragged results: a `[B, C, ...]` result of which only the
    first `count[b]` entries along one axis are valid in row `b`, the rest
    being padding. The artifact manifest records the bounding count, so
    callers (winnow-run, the Python bindings) see only the valid entries.
  }];
  let methods = [
    InterfaceMethod<[{
        The `[B]` i32 count that bounds `result` (a result or an operand of
        this op), or null when `result` is not ragged.
      }], "::mlir::Value", "getCountFor", (ins "::mlir::Value":$result)>,
    InterfaceMethod<[{
        The axis of `result` the count bounds.
      }], "int64_t", "getRaggedAxis", (ins "::mlir::Value":$result), "",
      "return 1;">,
  ];
}

#endif // WINNOW_DIALECT_TOK_IR_TOKINTERFACES_TD

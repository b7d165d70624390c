//===- DispatchOps.td - Fused dispatch regions -------------*- tablegen -*-===//
//
// A dispatch region groups tok ops (and their elementwise neighbours) that
// the compiler runs as one fused loop over batch rows: one kernel on a GPU,
// one pass over each row's data on a CPU. Values produced and consumed
// inside the region and not yielded never reach memory outside a row's
// scratch. Regions are formed by `tok-form-dispatch-regions` (cost model in
// docs/fusion.md) and lowered by `tok-lower-to-loops`.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_DIALECT_TOK_IR_DISPATCHOPS_TD
#define WINNOW_DIALECT_TOK_IR_DISPATCHOPS_TD

include "winnow/Dialect/Tok/IR/TokDialect.td"
include "winnow/Dialect/Tok/IR/TokTypes.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/CommonTypeConstraints.td"

def Tok_DispatchOp : Tok_Op<"dispatch", [
    RecursiveMemoryEffects,
    SingleBlockImplicitTerminator<"::winnow::tok::YieldOp">]> {
  let summary = "A group of row-local ops fused into one loop over batch rows";
  let description = [{
    The region holds tok ops and elementwise tensor ops; every tensor they
    take from outside and every tensor they produce has the batch extent
    `rows` as its leading dimension, and row `b` of every result depends only
    on row `b` of the operands (every tok op is row-local). The region is
    lowered to one parallel loop over `rows`: each iteration runs the ops on
    its row in order. Results are the values `tok.yield` names; every other
    value defined inside lives in per-row scratch (at most
    `scratch_bytes_per_row` bytes; on a GPU today the row's slice of a
    global-memory arena, which stays in L1/L2) and is not written back as a
    full tensor.

    The attributes record the cost model's decision (docs/fusion.md):
    `saved_bytes` is the device-memory traffic the fusion removes (every
    scratch value's write and read), `launches_saved` the kernels it
    removes.

    ```mlir
    %idx, %n, %h = tok.dispatch rows 4 scratch 2304 saved 36864 launches 2
        -> (tensor<4x144xi32>, tensor<4xi32>, tensor<4x144x4096xbf16>) {
      %s = tok.attn_score %q, %k
          : (tensor<4x32x1x128xbf16>, tensor<4x32x576x128xbf16>)
          -> tensor<4x576xf32>
      %idx, %n = tok.select #tok.top_k<144> of %s
          : (tensor<4x576xf32>) -> (tensor<4x144xi32>, tensor<4xi32>)
      %h, %map = tok.compact %idx, %n gather(%hidden)
          : (tensor<4x144xi32>, tensor<4xi32>, tensor<4x576x4096xbf16>)
          -> (tensor<4x144x4096xbf16>, tensor<4x576xi32>)
      tok.yield %idx, %n, %h
          : tensor<4x144xi32>, tensor<4xi32>, tensor<4x144x4096xbf16>
    }
    ```
  }];
  let arguments = (ins
    ConfinedAttr<I64Attr, [IntMinValue<1>]>:$rows,
    ConfinedAttr<I64Attr, [IntNonNegative]>:$scratch_bytes_per_row,
    ConfinedAttr<I64Attr, [IntNonNegative]>:$saved_bytes,
    ConfinedAttr<I64Attr, [IntNonNegative]>:$launches_saved);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `rows` $rows `scratch` $scratch_bytes_per_row `saved` $saved_bytes
    `launches` $launches_saved (`->` `(` type($results)^ `)`)?
    $body attr-dict
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// The terminator naming the results.
    ::winnow::tok::YieldOp getYield();
  }];
}

def Tok_YieldOp : Tok_Op<"yield", [
    Pure, Terminator, ReturnLike, HasParent<"::winnow::tok::DispatchOp">]> {
  let summary = "The results of a tok.dispatch region";
  let arguments = (ins Variadic<AnyRankedTensor>:$values);
  let builders = [OpBuilder<(ins), [{ /* no values */ }]>];
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
}

#endif // WINNOW_DIALECT_TOK_IR_DISPATCHOPS_TD

//===- TokOps.td - All ops of the tok dialect ---------------*- tablegen -*-===//
//
// One include per op family; each family lives in its own file.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_DIALECT_TOK_IR_TOKOPS_TD
#define WINNOW_DIALECT_TOK_IR_TOKOPS_TD

include "winnow/Dialect/Tok/IR/TokDialect.td"
include "winnow/Dialect/Tok/IR/TokAttrs.td"
include "winnow/Dialect/Tok/IR/TokInterfaces.td"
include "winnow/Dialect/Tok/IR/TokTypes.td"
include "winnow/Dialect/Tok/IR/PruneOps.td"
include "winnow/Dialect/Tok/IR/ChunkOps.td"
include "winnow/Dialect/Tok/IR/VerifyOps.td"
include "winnow/Dialect/Tok/IR/MergeOps.td"
include "winnow/Dialect/Tok/IR/KvOps.td"
include "winnow/Dialect/Tok/IR/DiversityOps.td"
include "winnow/Dialect/Tok/IR/ClusterOps.td"
include "winnow/Dialect/Tok/IR/DispatchOps.td"
include "winnow/Dialect/Tok/IR/LayoutOps.td"

#endif // WINNOW_DIALECT_TOK_IR_TOKOPS_TD

//===- VerifyOps.cpp - Verifier of the speculative-verification ops ------===//

#include "winnow/Dialect/Tok/IR/TokOps.h"

#include "OpVerifiers.h"

using namespace mlir;
using namespace winnow::tok;

namespace {
/// Noise and constant rules shared by the verification ops: Philox needs
/// seed and offset together and excludes explicit noise; rejection needs
/// uniforms and exponentials (or Philox), typical needs exponentials (or
/// Philox); the typical constants are positive. Mode-specific rules (what
/// greedy rejects) stay with each op.
LogicalResult verifyNoise(Operation *op, VerifyMode mode, Value seed,
                          Value offset, Value uniforms, Value exponentials,
                          llvm::APFloat epsilonAttr, llvm::APFloat alphaAttr) {
  bool philox = seed || offset;
  if (philox && !(seed && offset))
    return op->emitOpError() << "expected both seed and offset for Philox noise";
  if (philox && (uniforms || exponentials))
    return op->emitOpError()
           << "expected either explicit noise or seed/offset, not both";
  if (mode == VerifyMode::rejection && !philox && !(uniforms && exponentials))
    return op->emitOpError() << "rejection verification needs uniforms and "
                                "exponentials, or seed and offset";
  if (mode == VerifyMode::typical && !philox && !exponentials)
    return op->emitOpError() << "typical acceptance needs exponentials, or "
                                "seed and offset";
  double epsilon = epsilonAttr.convertToDouble();
  double alpha = alphaAttr.convertToDouble();
  if (!(epsilon > 0.0) || !(alpha > 0.0))
    return op->emitOpError() << "expected positive typical_epsilon and "
                                "typical_alpha, got "
                             << epsilon << " and " << alpha;
  return success();
}
} // namespace

LogicalResult SpecVerifyOp::verify() {
  auto logits = getLogits().getType();
  if (logits.getRank() != 3)
    return emitOpError() << "expected logits of rank 3 [B, K+1, V], got rank "
                         << logits.getRank();
  int64_t batch = logits.getDimSize(0), rows = logits.getDimSize(1);
  int64_t vocab = logits.getDimSize(2), drafts = rows - 1;
  if (rows < 1 || vocab < 1)
    return emitOpError() << "expected at least one logits row and one token";
  if (failed(verifyShape(*this, getDrafts(), "drafts", {batch, drafts})) ||
      failed(verifyPerBatch(*this, getNumDraft(), "num_draft", batch)) ||
      failed(verifyShape(*this, getTokens(), "tokens", {batch, rows})) ||
      failed(verifyPerBatch(*this, getNumAccepted(), "num_accepted", batch)) ||
      failed(verifyPerBatch(*this, getNumEmitted(), "num_emitted", batch)))
    return failure();
  if (Value q = getDraftProbs())
    if (failed(verifyShape(*this, q, "draft_probs", {batch, drafts, vocab})))
      return failure();
  if (failed(verifyPerBatch(*this, getTemperature(), "temperature", batch)) ||
      failed(verifyPerBatch(*this, getIsGreedy(), "is_greedy", batch)) ||
      failed(verifyPerBatch(*this, getSeed(), "seed", batch)) ||
      failed(verifyPerBatch(*this, getOffset(), "offset", batch)))
    return failure();
  if (Value u = getUniforms())
    if (failed(verifyShape(*this, u, "uniforms", {batch, drafts})))
      return failure();
  if (Value e = getExponentials())
    if (failed(verifyShape(*this, e, "exponentials", {batch, vocab})))
      return failure();

  VerifyMode mode = getMode();
  bool noise = getSeed() || getOffset() || getUniforms() || getExponentials();
  if (mode == VerifyMode::greedy && noise)
    return emitOpError() << "greedy verification takes no noise operands";
  if (mode == VerifyMode::typical && getUniforms())
    return emitOpError() << "typical acceptance takes no uniforms";
  if (getDraftProbs() && mode != VerifyMode::rejection)
    return emitOpError() << "draft_probs are only used by rejection sampling";
  if (getTargetProbs()) {
    if (!getLogits().getType().getElementType().isF32())
      return emitOpError() << "target probabilities (target_probs) must be "
                              "f32, got "
                           << getLogits().getType().getElementType();
    if (getTemperature())
      return emitOpError()
             << "target probabilities (target_probs) take no temperature: "
                "the engine applied it before computing them";
  }
  if (failed(verifyNoise(*this, mode, getSeed(), getOffset(), getUniforms(),
                         getExponentials(), getTypicalEpsilon(),
                         getTypicalAlpha())))
    return failure();
  return success();
}

LogicalResult TreeVerifyOp::verify() {
  auto logits = getLogits().getType();
  if (logits.getRank() != 3)
    return emitOpError() << "expected logits of rank 3 [B, T, V], got rank "
                         << logits.getRank();
  int64_t batch = logits.getDimSize(0), nodes = logits.getDimSize(1);
  int64_t vocab = logits.getDimSize(2);
  if (nodes < 1 || vocab < 1)
    return emitOpError() << "expected at least one tree node and one token";
  if (failed(
          verifyShape(*this, getTreeTokens(), "tree_tokens", {batch, nodes})) ||
      failed(verifyShape(*this, getParents(), "parents", {batch, nodes})) ||
      failed(verifyPerBatch(*this, getNumNodes(), "num_nodes", batch)) ||
      failed(verifyPerBatch(*this, getTemperature(), "temperature", batch)) ||
      failed(verifyPerBatch(*this, getSeed(), "seed", batch)) ||
      failed(verifyPerBatch(*this, getOffset(), "offset", batch)) ||
      failed(verifyPerBatch(*this, getNumAccepted(), "num_accepted", batch)) ||
      failed(verifyPerBatch(*this, getNumEmitted(), "num_emitted", batch)) ||
      failed(verifyPerBatch(*this, getBestLeaf(), "best_leaf", batch)))
    return failure();
  if (Value e = getExponentials())
    if (failed(verifyShape(*this, e, "exponentials", {batch, vocab})))
      return failure();
  if (Value u = getUniforms())
    if (failed(verifyShape(*this, u, "uniforms", {batch, nodes})))
      return failure();
  auto tokens = getTokens().getType();
  if (tokens.getRank() != 2 || tokens.getDimSize(0) != batch ||
      tokens.getDimSize(1) < nodes)
    return emitOpError() << "expected tokens of shape " << batch
                         << "xCxi32 with C >= " << nodes << ", got "
                         << shapeString(tokens.getShape()) << "xi32";
  if (failed(verifyShape(*this, getAcceptNodes(), "accept_nodes",
                         tokens.getShape())))
    return failure();
  if (getUniforms() && getMode() != VerifyMode::rejection)
    return emitOpError() << "uniforms are only used by rejection sampling";
  bool noise = getSeed() || getOffset() || getExponentials();
  if (getMode() == VerifyMode::greedy && (noise || getTemperature()))
    return emitOpError()
           << "greedy tree verification takes no noise or temperature";
  if (failed(verifyNoise(*this, getMode(), getSeed(), getOffset(),
                         getUniforms(), getExponentials(), getTypicalEpsilon(),
                         getTypicalAlpha())))
    return failure();
  return success();
}

Value SpecVerifyOp::getCountFor(Value result) {
  return result == getTokens() ? getNumEmitted() : Value();
}

Value TreeVerifyOp::getCountFor(Value result) {
  // Accepted nodes include the root: num_emitted of them are valid too.
  return result == getTokens() || result == getAcceptNodes() ? getNumEmitted()
                                                             : Value();
}

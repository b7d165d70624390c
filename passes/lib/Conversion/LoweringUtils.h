//===- LoweringUtils.h - Small builders shared by the loop lowerings -------===//
//
// Private to passes/lib/Conversion: the loop builder and lowering context
// the tok-to-loops patterns use, and small helpers both conversions share.
//
//===----------------------------------------------------------------------===//

#ifndef WINNOW_PASSES_LIB_LOWERINGUTILS_H
#define WINNOW_PASSES_LIB_LOWERINGUTILS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "winnow/Conversion/Attributes.h"
#include "winnow/Conversion/TokToLoops.h"
#include "winnow/Dialect/Tok/IR/TokOps.h"

#include <functional>

namespace winnow {

/// Builds index/integer/float constants and loops with one builder.
class LoopEmitter {
public:
  explicit LoopEmitter(mlir::ImplicitLocOpBuilder &b) : b(b) {}

  mlir::ImplicitLocOpBuilder &builder() { return b; }

  mlir::Value index(int64_t value);
  mlir::Value i32(int64_t value);
  mlir::Value f32(double value);

  /// `for (i = lb; i < ub; ++i) body(i)`.
  void forLoop(mlir::Value lb, mlir::Value ub,
               llvm::function_ref<void(mlir::Value)> body);
  /// `for (i = lb; i < ub; ++i) state = body(i, state)`; returns the state.
  mlir::ValueRange
  forLoop(mlir::Value lb, mlir::Value ub, mlir::ValueRange init,
          llvm::function_ref<llvm::SmallVector<mlir::Value>(
              mlir::Value, mlir::ValueRange)>
              body);
  /// The same with `i += step`.
  mlir::ValueRange
  forLoop(mlir::Value lb, mlir::Value ub, mlir::Value step,
          mlir::ValueRange init,
          llvm::function_ref<llvm::SmallVector<mlir::Value>(mlir::Value,
                                                            mlir::ValueRange)>
              body);
  /// `for (i = 0; i < extent; ++i) body(i)` with iterations that are
  /// independent: an `scf.parallel`. The CPU runs it as a loop; the GPU
  /// offload maps its iterations onto threads. The body may use scratch
  /// allocas created before the loop: each iteration must write scratch before
  /// reading it (the GPU gives every iteration a private copy).
  void parallelFor(int64_t extent, llvm::function_ref<void(mlir::Value)> body);
  /// The same over a row-major nest of independent dimensions.
  void parallelFor(llvm::ArrayRef<int64_t> extents,
                   llvm::function_ref<void(mlir::ValueRange)> body);
  /// `if (cond) body()`.
  void ifThen(mlir::Value cond, llvm::function_ref<void()> body);

  /// A cooperative GPU launch that a GPU form builds itself (never inside a
  /// tok.dispatch row): `blocks` blocks of `threads` threads running
  /// `body(block, thread)` in SPMD style, so the body may use `collective`
  /// ops and barriers (every thread of a block must reach each one).
  /// `workgroup` lists shared-memory buffers (workgroup address space) the
  /// body gets as its third argument. tok-offload-to-gpu keeps it as one
  /// launch; the CPU target never sees one. A constant grid of no blocks
  /// (a batch of zero rows) launches nothing: every block works on rows
  /// that would not exist.
  void blockLaunch(
      mlir::Value blocks, int64_t threads,
      llvm::ArrayRef<mlir::MemRefType> workgroup,
      llvm::function_ref<void(mlir::Value, mlir::Value, mlir::ValueRange)>
          body);
  /// Inside a blockLaunch: `for (i = lb + thread; i < ub; i += threads)`,
  /// consecutive threads on consecutive iterations (coalesced). Returns the
  /// state like forLoop.
  mlir::ValueRange blockStrided(
      mlir::Value lb, mlir::Value ub, mlir::Value thread, int64_t threads,
      mlir::ValueRange init,
      llvm::function_ref<llvm::SmallVector<mlir::Value>(mlir::Value,
                                                        mlir::ValueRange)>
          body);

  /// The lanes of orderedSums.
  static constexpr int64_t kSumLanes = 8;
  /// `numSums` sums over i in [lb, ub) of `terms(i)` (one value per sum), in
  /// an order that depends only on the trip count, the same on every target
  /// and for any batch: lane l adds the terms of i = lb + l, lb + l + 8, ...
  /// in order, then the lanes are added in order (starting from +0.0).
  /// The eight independent accumulators let the CPU vectorise and the GPU
  /// overlap loads; no fast-math flag lets a backend reorder or contract
  /// them.
  /// `roundTerms`, when given, makes the terms of a whole round at once
  /// (lane-major: element l * numSums + s is terms(base + l)[s]), so that
  /// their loads can be vectors; the tail still uses `terms`.
  /// With `sumLaneVectors` (the CPU forms) and terms made one at a time,
  /// each sum's eight lanes are one vector<8xf32> accumulator: the same
  /// additions lane by lane, but LLVM sees a vector to build from eight like
  /// terms instead of 8 x numSums scalar accumulators that its SLP
  /// vectoriser only partly packs (H-Net's boundary: 3x faster). Terms made
  /// a round at a time keep scalar lanes (their vector loads already pack).
  llvm::SmallVector<mlir::Value> orderedSums(
      mlir::Value lb, mlir::Value ub, unsigned numSums,
      llvm::function_ref<llvm::SmallVector<mlir::Value>(mlir::Value)> terms,
      llvm::function_ref<llvm::SmallVector<mlir::Value>(mlir::Value)>
          roundTerms = {});

  /// `x predicate y` on integers or indices (`arith.cmpi`).
  mlir::Value cmpi(mlir::arith::CmpIPredicate predicate, mlir::Value x,
                   mlir::Value y);
  /// `clamp(value, lo, hi)` on index values.
  mlir::Value clampIndex(mlir::Value value, mlir::Value lo, mlir::Value hi);
  /// An i32 loaded from a `[B]` buffer, as an index clamped to [0, hi].
  mlir::Value loadClampedCount(mlir::Value buffer, mlir::Value batch,
                               mlir::Value hi);
  /// The valid length of `row`: clamp(lengths[row], 0, tokens), or `tokens`
  /// when the op has no lengths operand (`lengths` is null).
  mlir::Value rowLength(mlir::Value lengths, mlir::Value row, int64_t tokens);

  /// Widens a float to f32 (no-op for f32): every score accumulates in fp32.
  mlir::Value widenToF32(mlir::Value value);
  /// Rounds an f32 to `type` once (no-op for f32).
  mlir::Value narrowFromF32(mlir::Value value, mlir::Type type);
  /// `!value` for an i1.
  mlir::Value notI1(mlir::Value value);
  /// An unsigned flag (i1, or an i8 kept flag) as the index 0 or 1, for
  /// counting with it.
  mlir::Value indexOf(mlir::Value flag);

protected:
  /// orderedSums keeps each sum's lanes in one vector (see there).
  bool sumLaneVectors = false;

private:
  mlir::ImplicitLocOpBuilder &b;
};

/// The row of one tok.dispatch being lowered: its ops are cloned with batch
/// extent 1 and lowered one row at a time; the results the dispatch yields
/// are written straight into the rows of its result buffers.
struct DispatchRow {
  /// The dispatch's batch rows (a lowering may split a lone row's work).
  int64_t rows = 1;
  /// Row views of the dispatch's result buffers, by the (batch-1) value
  /// that is yielded.
  llvm::DenseMap<mlir::Value, mlir::Value> destinations;
};

/// What the lowering of one op is given, explicitly (see "The lowering
/// contract" in TokOpLowering.h): the target's options and, inside a
/// tok.dispatch, the row being lowered. It also collects the op's
/// replacement values, which the pattern hands to the rewriter.
class LoweringContext {
public:
  LoweringContext(const LoweringOptions &options, DispatchRow *row)
      : options(options), row(row) {}

  bool intraRowParallel() const { return options.intraRowParallel; }
  /// The batch rows the op's work is shared among: the dispatch's rows
  /// inside a tok.dispatch, else the op's own `batch`.
  int64_t batchRows(int64_t batch) const { return row ? row->rows : batch; }

  const LoweringOptions &options;
  /// Null outside a tok.dispatch.
  DispatchRow *row;
  /// Whether the op's lowering reads strided row views as well as whole
  /// buffers (the ops a tok.dispatch may hold): toBuffer then views a row
  /// slice of a tensor (a function with a dynamic batch, one row at a time)
  /// in place instead of copying it.
  bool readsRowViews = false;
  /// Result -> the tensor that replaces it, recorded by OpLowering::replace.
  llvm::DenseMap<mlir::Value, mlir::Value> replacements;
};

/// The builder of one op's lowering: LoopEmitter plus the operations that
/// depend on where the op is lowered. Operands are read only through
/// toBuffer, results written only into buffers from allocFor, and each
/// result is replaced through replace; inside a tok.dispatch these resolve
/// to row views and per-row scratch.
class OpLowering : public LoopEmitter {
public:
  OpLowering(mlir::ImplicitLocOpBuilder &b, LoweringContext &context)
      : LoopEmitter(b), context(context) {
    sumLaneVectors = !context.intraRowParallel();
  }

  /// A read-only buffer view of a tensor operand (inside a tok.dispatch, the
  /// row buffer the producer wrote).
  mlir::Value toBuffer(mlir::Value tensor);
  /// The buffer an op writes its result tensor `result` into: a fresh
  /// buffer, or inside a tok.dispatch the row of the dispatch's result
  /// buffer it yields to, or per-row scratch.
  mlir::Value allocFor(mlir::Value result);
  /// The tensor a lowered op returns: the buffer it wrote, handed to
  /// bufferization as restrict + writable (nothing else aliases it).
  mlir::Value toTensor(mlir::Value buffer, mlir::Type tensorType);
  /// Records `replacement` (a tensor of the same type) for `result`.
  void replace(mlir::Value result, mlir::Value replacement);
  /// replace(result, toTensor(buffer, result's type)).
  void replaceWithBuffer(mlir::Value result, mlir::Value buffer);

private:
  LoweringContext &context;
};

using tok::elementBytes;
using tok::isStreamedPair;
using tok::shapedBytes;
using tok::splatValue;

/// A shared-memory (workgroup address space) buffer type, for a block
/// launch's workgroup buffers.
mlir::MemRefType workgroupMemRef(llvm::ArrayRef<int64_t> shape,
                                 mlir::Type element);

/// The number of `element`s in a 16-byte vector when rows of `inner`
/// elements are a whole number of such vectors, else 0.
int64_t vectorWidth(mlir::Type element, int64_t inner);
/// `count` consecutive elements of `buffer` from `at` (its innermost index
/// advanced), loaded as 16-byte vectors of `width` (vectorWidth) elements:
/// the caller guarantees alignment (isAligned16, rows of whole vectors, `at`
/// a multiple of `width`) and that `width` divides `count`.
llvm::SmallVector<mlir::Value> loadVectorRun(LoopEmitter &e, mlir::Value buffer,
                                             mlir::ValueRange at, int64_t count,
                                             int64_t width);
/// Per-row scratch of a lowering whose phases run either in order inside
/// one loop over rows (the CPU: a buffer on the row's stack, element i) or
/// as separate loops over the whole batch (GPU forms: a [B, size] device
/// buffer, element (row, i)).
struct RowScratch {
  LoopEmitter &e;
  int64_t batch;
  bool wholeBatch;

  /// A buffer of `size` elements (at least one) per row.
  mlir::Value alloc(int64_t size, mlir::Type type);
  /// Where element `i` of `row` is.
  llvm::SmallVector<mlir::Value> at(mlir::Value row, mlir::Value i) const {
    if (wholeBatch)
      return {row, i};
    return {i};
  }
};

/// One row of a buffer for orderedRowSums: element d is
/// buffer[prefix..., d].
struct RowRef {
  mlir::Value buffer;
  llvm::SmallVector<mlir::Value> prefix;
};
/// `numSums` sums over d in [0, extent) of `terms(elements)`, elements[r]
/// being element d of rows[r] (as stored, not widened), in orderedSums'
/// order. When the rows are whole 16-byte vectors (vectorWidth) of one
/// element type, a round of eight elements of each row is loaded as
/// vectors if every buffer is 16-byte aligned at run time, else element by
/// element: the same terms in the same order either way.
llvm::SmallVector<mlir::Value>
orderedRowSums(LoopEmitter &e, llvm::ArrayRef<RowRef> rows, int64_t extent,
               unsigned numSums,
               llvm::function_ref<
                   llvm::SmallVector<mlir::Value>(llvm::ArrayRef<mlir::Value>)>
                   terms);
/// The dot product of rows `x` and `y` (each element widened to f32), in
/// orderedRowSums' order.
mlir::Value orderedRowDot(LoopEmitter &e, const RowRef &x, const RowRef &y,
                          int64_t extent);
/// 1 / max(||x||, 1e-12) of row `x`, its squares summed in orderedRowSums'
/// order: the inverse norm every similarity in Winnow uses.
mlir::Value inverseNorm(LoopEmitter &e, const RowRef &x, int64_t extent);
/// 1 / max(sqrt(squares), 1e-12): inverseNorm from its sum of squares.
mlir::Value inverseNormOfSquares(LoopEmitter &e, mlir::Value squares);
/// An i1: whether `buffer`'s first element sits on a 16-byte boundary (its
/// base pointer plus its offset, which is dynamic for row views).
mlir::Value isAligned16(LoopEmitter &e, mlir::Value buffer);

/// One chunk of `width` elements (a 16-byte vector, vectorWidth) of a row:
/// the innermost index of `srcAt`/`outAt` is the chunk's first element.
/// When `aligned` holds at run time (isAligned16 of both buffers, with rows
/// a whole number of chunks) the copy is one vector load and store with
/// 16-byte alignment (ld/st.global.v4.b32 on the GPU), else `width` scalar
/// accesses: the same result either way.
void copyChunk(LoopEmitter &e, mlir::Value src, mlir::ValueRange srcAt,
               mlir::Value out, mlir::ValueRange outAt, int64_t width,
               mlir::Value aligned);
/// The same for writing `value` into every element of the chunk.
void fillChunk(LoopEmitter &e, mlir::Value out, mlir::ValueRange outAt,
               int64_t width, mlir::Value value, mlir::Value aligned);

} // namespace winnow

#endif // WINNOW_PASSES_LIB_LOWERINGUTILS_H

//===- KernelReport.cpp - A static performance model of GPU launches ------===//
//
// Reads each gpu.launch_func of the host code and the kernel it launches,
// at the `gpu` phase, and evaluates the model of docs/cuda.md:
//
//   estimate = max(floor, bandwidth, compute, chain, issue)   per launch
//
// Index values are bounded by interval arithmetic (constants, thread and
// block ids, min/max clamps), so a loop whose bound is a count read from
// memory but clamped to a capacity gets that capacity as its trip count.
// Everything is counted for the busiest thread (lower bounds of loop starts,
// upper bounds of loop ends), so the chain is an upper bound of the critical
// path as written, and bytes are capped by each buffer's size.
//
//===----------------------------------------------------------------------===//

#include "winnow/Target/KernelReport.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/Regex.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;

namespace winnow {

std::optional<DeviceModel> deviceModel(StringRef name) {
  DeviceModel model;
  // Shared by both cards (same GH100 die): SMs, clock, FP32 rate; a graph
  // node ~0.54 us and a kernel that does anything ~1.5 us on an H200
  // (the H200 anchors, bench/results/anchors-h200-2026-11-26.json); DRAM
  // latency ~0.5 us, shared memory ~30 cycles.
  model.smCount = 132;
  model.clockHz = 1.98e9;
  model.fp32Flops = 67e12;
  model.graphLaunchSeconds = 0.54e-6;
  model.minKernelSeconds = 1.5e-6;
  model.globalLatencySeconds = 0.5e-6;
  model.cachedLatencySeconds = 0.15e-6;
  model.sharedLatencySeconds = 30 / 1.98e9;
  if (name == "h200") {
    model.name = "H200";
    model.copyBandwidth = 4.2e12; // measured copy_ on an H200 (bench/results)
    return model;
  }
  if (name == "h100") {
    model.name = "H100";
    model.copyBandwidth = 3.35e12; // nominal until one is measured
    return model;
  }
  return std::nullopt;
}

namespace {

/// A closed interval of int64 values; `known` false means any value.
struct Interval {
  int64_t lo = std::numeric_limits<int64_t>::min();
  int64_t hi = std::numeric_limits<int64_t>::max();
  bool known = false;

  static Interval exact(int64_t v) { return {v, v, true}; }
  static Interval of(__int128 lo, __int128 hi) {
    auto clamp = [](__int128 x) {
      return static_cast<int64_t>(std::clamp<__int128>(
          x, std::numeric_limits<int64_t>::min(),
          std::numeric_limits<int64_t>::max()));
    };
    return {clamp(lo), clamp(hi), true};
  }
};

/// A memory access's buffer: the kernel argument (global), alloca (private)
/// or workgroup buffer (shared) its memref is a view of.
enum class Space { Global, Shared, Private };

struct Buffer {
  Value root;
  Space space = Space::Private;
};

Buffer bufferOf(Value memref) {
  while (Operation *def = memref.getDefiningOp()) {
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      break;
    memref = view.getViewSource();
  }
  auto type = dyn_cast<MemRefType>(memref.getType());
  if (type && isa_and_nonnull<gpu::AddressSpaceAttr>(type.getMemorySpace())) {
    auto space = cast<gpu::AddressSpaceAttr>(type.getMemorySpace());
    if (space.getValue() == gpu::AddressSpace::Workgroup)
      return {memref, Space::Shared};
    if (space.getValue() == gpu::AddressSpace::Private)
      return {memref, Space::Private};
  }
  if (auto arg = dyn_cast<BlockArgument>(memref))
    if (isa<gpu::GPUFuncOp>(arg.getOwner()->getParentOp()))
      return {memref, Space::Global};
  return {memref, Space::Private};
}

int64_t elementBytes(Type type) {
  if (auto vector = dyn_cast<VectorType>(type))
    return vector.getNumElements() * elementBytes(vector.getElementType());
  if (type.isIndex())
    return 8;
  return std::max<int64_t>(1, (type.getIntOrFloatBitWidth() + 7) / 8);
}

/// (memref, bytes per access, is a load) of a memory access, if `op` is one.
struct Access {
  Value memref;
  int64_t bytes = 0;
  bool isLoad = false;
};

std::optional<Access> accessOf(Operation *op) {
  if (auto load = dyn_cast<memref::LoadOp>(op))
    return Access{load.getMemref(), elementBytes(load.getType()), true};
  if (auto store = dyn_cast<memref::StoreOp>(op))
    return Access{store.getMemref(),
                  elementBytes(store.getValueToStore().getType()), false};
  if (auto load = dyn_cast<vector::LoadOp>(op))
    return Access{load.getBase(), elementBytes(load.getVectorType()), true};
  // An atomic read-modify-write whose old value is used waits for it like a
  // load; otherwise it is sent off like a store (a histogram's counts).
  if (auto atomic = dyn_cast<memref::AtomicRMWOp>(op))
    return Access{atomic.getMemref(), elementBytes(atomic.getType()),
                  !atomic->use_empty()};
  if (auto store = dyn_cast<vector::StoreOp>(op))
    return Access{store.getBase(), elementBytes(store.getVectorType()), false};
  return std::nullopt;
}

int64_t flopsOf(Operation *op) {
  if (isa<math::FmaOp>(op))
    return 2;
  if (isa<arith::AddFOp, arith::SubFOp, arith::MulFOp, arith::DivFOp,
          arith::MaximumFOp, arith::MinimumFOp, arith::MaxNumFOp,
          arith::MinNumFOp, arith::NegFOp>(op) ||
      (op->getDialect() &&
       op->getDialect()->getNamespace() == math::MathDialect::getDialectNamespace()))
    return isa<FloatType>(getElementTypeOrSelf(op->getResultTypes().front()))
               ? 1
               : 0;
  return 0;
}

/// Ops that become no instruction of their own.
bool isFree(Operation *op) {
  // A 32-bit element at a constant position of a vector is one of the
  // registers the vector already occupies (a 16-bit one shares a register
  // with its neighbour and still takes an instruction to pick its half).
  if (auto extract = dyn_cast<vector::ExtractOp>(op)) {
    Type element = getElementTypeOrSelf(extract.getResult().getType());
    return !extract.hasDynamicPosition() && element.isIntOrFloat() &&
           element.getIntOrFloatBitWidth() == 32;
  }
  return isa<arith::ConstantOp, scf::YieldOp, gpu::ReturnOp,
             ViewLikeOpInterface>(op) ||
         op->hasTrait<OpTrait::IsTerminator>();
}

/// Dependent-load steps of the busiest thread.
/// (Global loads that stream from DRAM, global loads of a buffer read many
/// times over, which the model takes as L2 hits, loads that hit the line the
/// previous iteration fetched (L1) and shared-memory loads.)
struct Steps {
  double global = 0;
  double cached = 0;
  double l1 = 0;
  double shared = 0;
  Steps &operator+=(const Steps &other) {
    global += other.global;
    cached += other.cached;
    l1 += other.l1;
    shared += other.shared;
    return *this;
  }
  Steps scaled(double times) const {
    return {global * times, cached * times, l1 * times, shared * times};
  }
  static Steps max(const Steps &a, const Steps &b) {
    return {std::max(a.global, b.global), std::max(a.cached, b.cached),
            std::max(a.l1, b.l1), std::max(a.shared, b.shared)};
  }
};

/// An L1 line: a thread walking a row element by element misses once per
/// line.
constexpr double kLineBytes = 128;
/// The largest per-iteration stride (in elements) still taken as a row walk.
constexpr int64_t kMaxWalkStride = 16;

/// A buffer whose accesses add up to this many times its size is taken as
/// cache-resident.
constexpr double kCachedReuse = 8;

class LaunchAnalysis {
public:
  LaunchAnalysis(const DeviceModel &device, gpu::GPUFuncOp kernel,
                 gpu::LaunchFuncOp launch, LaunchReport &report)
      : device(device), kernel(kernel), report(report) {
    for (auto [arg, operand] :
         llvm::zip(kernel.getArguments(), launch.getKernelOperands()))
      if (std::optional<int64_t> value = getConstantIntValue(operand))
        ranges[arg] = Interval::exact(*value);
  }

  void run() {
    // Where the kernel's code came from: the first source location in it
    // (the lowerings keep the tok op's).
    kernel.walk([&](Operation *op) {
      if (auto location = dyn_cast<FileLineColLoc>(op->getLoc())) {
        report.source = (location.getFilename().getValue() + ":" +
                         llvm::Twine(location.getLine()) + ":" +
                         llvm::Twine(location.getColumn()))
                            .str();
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    report.threads = report.grid[0] * report.grid[1] * report.grid[2] *
                     report.block[0] * report.block[1] * report.block[2];
    Counts counts = countAccesses(kernel.getBody().front(), report.threads);
    // The most threads any instruction runs on (past the bounds guard).
    report.activeThreads = activeThreads ? activeThreads : report.threads;
    for (const auto &[root, traffic] : counts.perBuffer) {
      auto type = cast<MemRefType>(root.getType());
      if (type.hasStaticShape() &&
          traffic.read + traffic.written >=
              kCachedReuse * double(type.getNumElements()) *
                  elementBytes(type.getElementType()))
        cachedRoots.insert(root);
    }
    finishTraffic(counts);
    Steps steps = chain(kernel.getBody().front());
    report.globalChain = steps.global;
    report.cachedChain = steps.cached;
    report.l1Chain = steps.l1;
    report.sharedChain = steps.shared;
  }

private:
  // ---- intervals -------------------------------------------------------
  Interval range(Value value) {
    auto it = ranges.find(value);
    if (it != ranges.end())
      return it->second;
    Interval result = compute(value);
    ranges[value] = result;
    return result;
  }

  int64_t dim(gpu::Dimension d, const int64_t (&sizes)[3]) {
    return sizes[static_cast<int>(d)];
  }

  Interval compute(Value value) {
    if (std::optional<int64_t> constant = getConstantIntValue(value))
      return Interval::exact(*constant);
    if (auto arg = dyn_cast<BlockArgument>(value)) {
      auto loop = dyn_cast<scf::ForOp>(arg.getOwner()->getParentOp());
      if (loop && arg == loop.getInductionVar()) {
        Interval lb = range(loop.getLowerBound()),
                 ub = range(loop.getUpperBound());
        if (lb.known && ub.known)
          return Interval::of(lb.lo, std::max<__int128>(lb.lo, (__int128)ub.hi - 1));
      }
      return {};
    }
    Operation *op = value.getDefiningOp();
    if (auto id = dyn_cast<gpu::ThreadIdOp>(op))
      return Interval::of(0, dim(id.getDimension(), report.block) - 1);
    if (auto id = dyn_cast<gpu::BlockIdOp>(op))
      return Interval::of(0, dim(id.getDimension(), report.grid) - 1);
    if (auto size = dyn_cast<gpu::BlockDimOp>(op))
      return Interval::exact(dim(size.getDimension(), report.block));
    if (auto size = dyn_cast<gpu::GridDimOp>(op))
      return Interval::exact(dim(size.getDimension(), report.grid));
    if (isa<arith::IndexCastOp, arith::IndexCastUIOp, arith::ExtSIOp,
            arith::ExtUIOp>(op)) {
      Interval in = range(op->getOperand(0));
      if (in.known)
        return in;
      // A value of a narrower integer type is bounded by that type.
      Type type = op->getOperand(0).getType();
      if (type.isInteger() && type.getIntOrFloatBitWidth() < 64) {
        unsigned bits = type.getIntOrFloatBitWidth();
        if (isa<arith::ExtUIOp, arith::IndexCastUIOp>(op))
          return Interval::of(0, ((__int128)1 << bits) - 1);
        return Interval::of(-((__int128)1 << (bits - 1)),
                            ((__int128)1 << (bits - 1)) - 1);
      }
      return {};
    }
    if (op->getNumOperands() == 2 && isa<arith::AddIOp, arith::SubIOp,
                                         arith::MulIOp, arith::MinSIOp,
                                         arith::MaxSIOp, arith::MinUIOp,
                                         arith::MaxUIOp, arith::DivUIOp,
                                         arith::DivSIOp, arith::CeilDivUIOp,
                                         arith::RemUIOp, arith::RemSIOp>(op)) {
      Interval a = range(op->getOperand(0)), b = range(op->getOperand(1));
      // min(x, c) <= c and max(x, c) >= c whatever x is: an unknown
      // operand is the whole int64 range.
      if (isa<arith::MinSIOp, arith::MinUIOp>(op))
        return a.known || b.known
                   ? Interval::of(std::min(a.lo, b.lo), std::min(a.hi, b.hi))
                   : Interval();
      if (isa<arith::MaxSIOp, arith::MaxUIOp>(op))
        return a.known || b.known
                   ? Interval::of(std::max(a.lo, b.lo), std::max(a.hi, b.hi))
                   : Interval();
      if (isa<arith::RemUIOp, arith::RemSIOp>(op) && b.known && b.lo > 0)
        return Interval::of(0, b.hi - 1);
      if (!a.known || !b.known)
        return {};
      __int128 alo = a.lo, ahi = a.hi, blo = b.lo, bhi = b.hi;
      if (isa<arith::AddIOp>(op))
        return Interval::of(alo + blo, ahi + bhi);
      if (isa<arith::SubIOp>(op))
        return Interval::of(alo - bhi, ahi - blo);
      if (isa<arith::MulIOp>(op)) {
        __int128 c[] = {alo * blo, alo * bhi, ahi * blo, ahi * bhi};
        return Interval::of(*std::min_element(c, c + 4),
                            *std::max_element(c, c + 4));
      }
      if (isa<arith::DivUIOp, arith::DivSIOp, arith::CeilDivUIOp>(op) &&
          blo > 0 && alo >= 0) {
        __int128 up = isa<arith::CeilDivUIOp>(op) ? blo - 1 : 0;
        return Interval::of(alo / bhi, (ahi + up) / blo);
      }
      return {};
    }
    if (auto select = dyn_cast<arith::SelectOp>(op)) {
      Interval a = range(select.getTrueValue()),
               b = range(select.getFalseValue());
      if (a.known && b.known)
        return Interval::of(std::min(a.lo, b.lo), std::max(a.hi, b.hi));
    }
    return {};
  }

  // ---- trip counts -----------------------------------------------------
  /// The busiest thread's trip count, or nullopt when unbounded.
  std::optional<int64_t> maxTrips(scf::ForOp loop) {
    Interval lb = range(loop.getLowerBound()), ub = range(loop.getUpperBound()),
             step = range(loop.getStep());
    if (!lb.known || !ub.known || !step.known || step.lo <= 0)
      return std::nullopt;
    __int128 span = (__int128)ub.hi - lb.lo;
    if (span <= 0)
      return 0;
    return static_cast<int64_t>(
        std::min<__int128>((span + step.lo - 1) / step.lo,
                           std::numeric_limits<int64_t>::max()));
  }

  /// The load a loop bound is read from, through index casts and clamps
  /// by constants; null when it is not one.
  static memref::LoadOp boundLoad(Value value) {
    for (int depth = 0; depth < 8; ++depth) {
      Operation *def = value.getDefiningOp();
      if (!def)
        return nullptr;
      if (auto load = dyn_cast<memref::LoadOp>(def))
        return load;
      if (isa<arith::IndexCastOp, arith::IndexCastUIOp>(def)) {
        value = def->getOperand(0);
        continue;
      }
      if (isa<arith::MinSIOp, arith::MaxSIOp, arith::MinUIOp, arith::MaxUIOp>(
              def)) {
        bool lhsConstant = matchPattern(def->getOperand(0), m_Constant());
        value = def->getOperand(lhsConstant ? 1 : 0);
        continue;
      }
      return nullptr;
    }
    return nullptr;
  }

  /// A loop over one segment of offsets in CSR form (lb = offsets[..., j],
  /// ub = offsets[..., j + 1], both loads of one buffer whose last extent
  /// is S + 1 for S segments, e.g. scatter_merge's members of an output
  /// row): the busiest thread's trips depend on the data, so the model
  /// takes the average segment, the offsets' range over S.
  std::optional<double> segmentTrips(scf::ForOp loop) {
    memref::LoadOp lo = boundLoad(loop.getLowerBound());
    memref::LoadOp hi = boundLoad(loop.getUpperBound());
    if (!lo || !hi || lo.getMemref() != hi.getMemref() ||
        !matchPattern(loop.getStep(), m_One()))
      return std::nullopt;
    auto type = cast<MemRefType>(lo.getMemref().getType());
    int64_t rank = type.getRank();
    if (rank == 0 || type.isDynamicDim(rank - 1) ||
        type.getDimSize(rank - 1) < 2)
      return std::nullopt;
    for (int64_t d = 0; d + 1 < rank; ++d)
      if (lo.getIndices()[d] != hi.getIndices()[d])
        return std::nullopt;
    auto next = hi.getIndices().back().getDefiningOp<arith::AddIOp>();
    Value j = lo.getIndices().back();
    if (!next ||
        !((next.getLhs() == j && matchPattern(next.getRhs(), m_One())) ||
          (next.getRhs() == j && matchPattern(next.getLhs(), m_One()))))
      return std::nullopt;
    Interval range = this->range(loop.getUpperBound());
    if (!range.known || range.hi < 0)
      return std::nullopt;
    double segments = static_cast<double>(type.getDimSize(rank - 1) - 1);
    return std::max(1.0, std::ceil(static_cast<double>(range.hi) / segments));
  }

  double trips(scf::ForOp loop) {
    if (std::optional<double> n = segmentTrips(loop)) {
      note(loop, "a CSR segment's length depends on the data; counted as "
                 "the average segment");
      return *n;
    }
    if (std::optional<int64_t> n = maxTrips(loop))
      return static_cast<double>(*n);
    note(loop, "a loop bound is not bounded statically; counted once");
    return 1;
  }

  /// Whether LLVM sees the trip count as a constant (and can unroll).
  static bool staticTrips(scf::ForOp loop) {
    return getConstantIntValue(loop.getLowerBound()) &&
           getConstantIntValue(loop.getUpperBound()) &&
           getConstantIntValue(loop.getStep());
  }

  void note(Operation *op, const std::string &text) {
    report.exact = false;
    std::string where;
    llvm::raw_string_ostream os(where);
    os << op->getLoc();
    std::string message = text + " (" + where + ")";
    if (!llvm::is_contained(report.notes, message))
      report.notes.push_back(message);
  }

  // ---- guards ----------------------------------------------------------
  /// The threads that run `region` of an scf.if, out of `threads`: a bound
  /// guard `linear < N` keeps N of them, `thread_id == c` one per block.
  int64_t guardedThreads(scf::IfOp branch, Region &region, int64_t threads) {
    if (&region != &branch.getThenRegion())
      return threads;
    return threadsPassing(branch.getCondition(), threads);
  }

  /// How many of `threads` threads can find `condition` true: one per block
  /// for `thread id == x`, the first n for `thread id < n`, the fewer of
  /// the two sides' for a conjunction (canonicalization folds nested
  /// conditions into one).
  int64_t threadsPassing(Value condition, int64_t threads) {
    if (auto both = condition.getDefiningOp<arith::AndIOp>())
      return std::min(threadsPassing(both.getLhs(), threads),
                      threadsPassing(both.getRhs(), threads));
    auto cmp = condition.getDefiningOp<arith::CmpIOp>();
    if (!cmp)
      return threads;
    if (cmp.getPredicate() == arith::CmpIPredicate::eq &&
        (cmp.getLhs().getDefiningOp<gpu::ThreadIdOp>() ||
         cmp.getRhs().getDefiningOp<gpu::ThreadIdOp>()))
      return std::max<int64_t>(1, threads / std::max<int64_t>(1, report.block[0]));
    if (cmp.getPredicate() != arith::CmpIPredicate::ult &&
        cmp.getPredicate() != arith::CmpIPredicate::slt)
      return threads;
    Interval x = range(cmp.getLhs()), bound = range(cmp.getRhs());
    if (!x.known || !bound.known || x.lo != 0 || x.hi + 1 != report.threads)
      return threads;
    return std::clamp<int64_t>(bound.hi, 0, threads);
  }

  // ---- traffic, FLOPs, instructions ------------------------------------
  struct Traffic {
    double read = 0, written = 0, vector16 = 0;
  };

  /// What a region does, summed over the threads that run it.
  struct Counts {
    llvm::MapVector<Value, Traffic> perBuffer;
    double flops = 0;
    double busiestInstructions = 0;
    double warpInstructions = 0;

    double bytes() const {
      double total = 0;
      for (const auto &entry : perBuffer)
        total += entry.second.read + entry.second.written;
      return total;
    }
    void add(const Counts &other, double times = 1) {
      for (const auto &[root, traffic] : other.perBuffer) {
        Traffic &mine = perBuffer[root];
        mine.read += times * traffic.read;
        mine.written += times * traffic.written;
        mine.vector16 += times * traffic.vector16;
      }
      flops += times * other.flops;
      busiestInstructions += times * other.busiestInstructions;
      warpInstructions += times * other.warpInstructions;
    }
  };

  /// Counts of one execution of `block` by `threads` threads. The two
  /// branches of an scf.if exclude each other: the larger one counts.
  Counts countAccesses(Block &block, int64_t threads) {
    Counts counts;
    for (Operation &op : block) {
      if (auto loop = dyn_cast<scf::ForOp>(op)) {
        counts.add(countAccesses(*loop.getBody(), threads), trips(loop));
        continue;
      }
      if (auto branch = dyn_cast<scf::IfOp>(op)) {
        Counts thenCounts = countAccesses(
            branch.getThenRegion().front(),
            guardedThreads(branch, branch.getThenRegion(), threads));
        Counts elseCounts;
        if (!branch.getElseRegion().empty())
          elseCounts = countAccesses(branch.getElseRegion().front(), threads);
        // More bytes wins; on equal bytes (a run-time alignment check with
        // a vector path and an element path) the faster path counts.
        double thenBytes = thenCounts.bytes(), elseBytes = elseCounts.bytes();
        bool sameBytes = std::abs(thenBytes - elseBytes) <=
                         0.01 * std::max(thenBytes, elseBytes);
        bool takeThen =
            sameBytes ? thenCounts.busiestInstructions <=
                            elseCounts.busiestInstructions
                      : thenBytes > elseBytes;
        counts.add(takeThen ? thenCounts : elseCounts);
        continue;
      }
      if (op.getNumRegions() > 0) {
        note(&op, "'" + op.getName().getStringRef().str() +
                      "' is counted as one iteration");
        for (Region &region : op.getRegions())
          for (Block &inner : region)
            counts.add(countAccesses(inner, threads));
        continue;
      }
      if (!isFree(&op)) {
        counts.busiestInstructions += 1;
        counts.warpInstructions += std::ceil(threads / 32.0);
        activeThreads = std::max(activeThreads, threads);
      }
      counts.flops += double(threads) * flopsOf(&op);
      std::optional<Access> access = accessOf(&op);
      if (!access)
        continue;
      Buffer buffer = bufferOf(access->memref);
      if (buffer.space != Space::Global)
        continue;
      double bytes = double(threads) * access->bytes;
      Traffic &traffic = counts.perBuffer[buffer.root];
      (access->isLoad ? traffic.read : traffic.written) += bytes;
      if (access->bytes == 16)
        traffic.vector16 += bytes;
    }
    return counts;
  }

  void finishTraffic(const Counts &counts) {
    report.busiestInstructions = counts.busiestInstructions;
    report.warpInstructions = counts.warpInstructions;
    report.flops = static_cast<int64_t>(counts.flops);
    double accessed = 0, vector16 = 0;
    for (const auto &[root, traffic] : counts.perBuffer) {
      auto type = cast<MemRefType>(root.getType());
      double size = type.hasStaticShape()
                        ? static_cast<double>(type.getNumElements()) *
                              elementBytes(type.getElementType())
                        : std::numeric_limits<double>::infinity();
      report.bytesRead += static_cast<int64_t>(std::min(traffic.read, size));
      report.bytesWritten +=
          static_cast<int64_t>(std::min(traffic.written, size));
      accessed += traffic.read + traffic.written;
      vector16 += traffic.vector16;
    }
    report.vector16Fraction = accessed > 0 ? vector16 / accessed : 0;
  }

  // ---- the busiest thread's chain --------------------------------------
  /// A block's steps: its own loads (straight-line, they overlap when its
  /// loop is unrolled) and those of the loops and branches inside it.
  struct BlockSteps {
    Steps straight, nested;
  };

  Steps chain(Block &block) {
    BlockSteps steps = blockSteps(block);
    return steps.straight += steps.nested;
  }

  /// The steps one load adds; nullopt for private memory and non-loads. A
  /// load whose innermost index is the enclosing loop's induction variable
  /// (plus anything invariant in the loop) walks a row: one iteration in
  /// kLineBytes / element bytes misses, the others hit L1.
  std::optional<Steps> loadSteps(Operation *op) {
    std::optional<Access> access = accessOf(op);
    if (!access || !access->isLoad)
      return std::nullopt;
    Buffer buffer = bufferOf(access->memref);
    Steps steps;
    if (buffer.space == Space::Shared)
      return steps.shared = 1, steps;
    if (buffer.space != Space::Global)
      return std::nullopt;
    // A walk advances `stride` elements per iteration, whatever the width
    // of one access (eight scalar loads or one 16-byte vector take a line
    // in as many iterations).
    std::optional<int64_t> stride = rowStride(op);
    int64_t elementSize = elementBytes(
        cast<MemRefType>(access->memref.getType()).getElementType());
    double miss =
        stride ? std::min(1.0, elementSize * static_cast<double>(*stride) /
                                   kLineBytes)
               : 1;
    (cachedRoots.contains(buffer.root) ? steps.cached : steps.global) = miss;
    steps.l1 = 1 - miss;
    return steps;
  }

  /// Elements the innermost index of a load advances per iteration of its
  /// loop (of constant step), when it is a row walk: the induction variable
  /// times a small constant plus loop-invariant or constant terms, times
  /// the step (an unrolled walk, `base + 8 * i + l`, takes 8 elements per
  /// iteration in 8 loads that share the lines; so does one lane of eight
  /// stepping by 8). nullopt otherwise.
  static std::optional<int64_t> rowStride(Operation *op) {
    auto loop = op->getParentOfType<scf::ForOp>();
    APInt step;
    if (!loop || !matchPattern(loop.getStep(), m_ConstantInt(&step)))
      return std::nullopt;
    ValueRange indices;
    if (auto load = dyn_cast<memref::LoadOp>(op))
      indices = load.getIndices();
    else if (auto load = dyn_cast<vector::LoadOp>(op))
      indices = load.getIndices();
    if (indices.empty())
      return std::nullopt;
    std::optional<int64_t> stride = strideIn(indices.back(), loop, /*depth=*/0);
    if (!stride)
      return std::nullopt;
    int64_t elements = *stride * step.getSExtValue();
    if (elements < 1 || elements > kMaxWalkStride)
      return std::nullopt;
    return elements;
  }

  /// The coefficient of `loop`'s induction variable in `value` (add, sub
  /// and multiplication by constants of it and of loop-invariant values).
  static std::optional<int64_t> strideIn(Value value, scf::ForOp loop,
                                         int depth) {
    if (value == loop.getInductionVar())
      return 1;
    if (!loop.getBodyRegion().isAncestor(value.getParentRegion()))
      return 0;
    if (depth > 8)
      return std::nullopt;
    Operation *def = value.getDefiningOp();
    if (!def)
      return std::nullopt;
    if (matchPattern(value, m_Constant()))
      return 0;
    auto both = [&](Value lhs,
                    Value rhs) -> std::optional<std::pair<int64_t, int64_t>> {
      std::optional<int64_t> l = strideIn(lhs, loop, depth + 1);
      std::optional<int64_t> r = strideIn(rhs, loop, depth + 1);
      if (!l || !r)
        return std::nullopt;
      return std::make_pair(*l, *r);
    };
    if (auto add = dyn_cast<arith::AddIOp>(def)) {
      auto s = both(add.getLhs(), add.getRhs());
      return s ? std::optional<int64_t>(s->first + s->second) : std::nullopt;
    }
    if (auto sub = dyn_cast<arith::SubIOp>(def)) {
      auto s = both(sub.getLhs(), sub.getRhs());
      return s ? std::optional<int64_t>(s->first - s->second) : std::nullopt;
    }
    if (auto mul = dyn_cast<arith::MulIOp>(def)) {
      APInt factor;
      if (matchPattern(mul.getRhs(), m_ConstantInt(&factor))) {
        std::optional<int64_t> s = strideIn(mul.getLhs(), loop, depth + 1);
        return s ? std::optional<int64_t>(*s * factor.getSExtValue())
                 : std::nullopt;
      }
      if (matchPattern(mul.getLhs(), m_ConstantInt(&factor))) {
        std::optional<int64_t> s = strideIn(mul.getRhs(), loop, depth + 1);
        return s ? std::optional<int64_t>(*s * factor.getSExtValue())
                 : std::nullopt;
      }
    }
    return std::nullopt;
  }

  BlockSteps blockSteps(Block &block) {
    BlockSteps steps;
    // Per value: the longest chain of loads (of each kind) it depends on
    // inside this block; per kind, the loads and the longest chain.
    llvm::DenseMap<Value, Steps> depths;
    Steps loads, longest;
    for (Operation &op : block) {
      Steps depth;
      for (Value operand : op.getOperands()) {
        auto it = depths.find(operand);
        if (it != depths.end())
          depth = Steps::max(depth, it->second);
      }
      if (auto loop = dyn_cast<scf::ForOp>(op)) {
        steps.nested += loopChain(loop);
      } else if (auto branch = dyn_cast<scf::IfOp>(op)) {
        Steps thenSteps = chain(branch.getThenRegion().front());
        Steps elseSteps = branch.getElseRegion().empty()
                              ? Steps()
                              : chain(branch.getElseRegion().front());
        steps.nested += Steps::max(thenSteps, elseSteps);
      } else if (op.getNumRegions() > 0) {
        for (Region &region : op.getRegions())
          for (Block &inner : region)
            steps.nested += chain(inner);
      } else if (std::optional<Steps> load = loadSteps(&op)) {
        loads += *load;
        depth += *load;
        longest = Steps::max(longest, depth);
      }
      for (Value result : op.getResults())
        depths[result] = depth;
    }
    // Independent loads go out together, loadsInFlight at a time; a chain
    // of dependent ones waits for each.
    for (double Steps::*kind :
         {&Steps::global, &Steps::cached, &Steps::l1, &Steps::shared})
      if (loads.*kind > 0)
        steps.straight.*kind = std::max(
            longest.*kind,
            loads.*kind / double(device.loadsInFlight));
    return steps;
  }

  /// Whether a load in the loop's body takes its address from a value
  /// carried from the previous iteration (the iterations are then serial).
  static bool carriesLoadAddresses(scf::ForOp loop) {
    llvm::DenseSet<Value> carried(loop.getRegionIterArgs().begin(),
                                  loop.getRegionIterArgs().end());
    bool found = false;
    loop.getBody()->walk([&](Operation *op) {
      bool uses = llvm::any_of(op->getOperands(), [&](Value v) {
        return carried.contains(v);
      });
      if (!uses)
        return;
      if (std::optional<Access> access = accessOf(op); access && access->isLoad)
        found = true;
      for (Value result : op->getResults())
        carried.insert(result);
    });
    return found;
  }

  Steps loopChain(scf::ForOp loop) {
    double n = trips(loop);
    BlockSteps body = blockSteps(*loop.getBody());
    // Unrolled iterations (a compile-time trip count, addresses that do not
    // come from the previous iteration) have their loads in flight together.
    double unroll = 1;
    if (staticTrips(loop) && !carriesLoadAddresses(loop))
      unroll = std::max(1.0, std::min<double>(device.unroll, n));
    Steps total = body.straight.scaled(1 / unroll);
    total += body.nested;
    return total.scaled(n);
  }

  const DeviceModel &device;
  gpu::GPUFuncOp kernel;
  LaunchReport &report;
  llvm::DenseMap<Value, Interval> ranges;
  llvm::DenseSet<Value> cachedRoots;
  int64_t activeThreads = 0;
};

void evaluate(const DeviceModel &device, LaunchReport &launch) {
  int64_t blocks = launch.grid[0] * launch.grid[1] * launch.grid[2];
  double bytes = double(launch.bytesRead + launch.bytesWritten);
  double share =
      std::min(1.0, double(blocks) / double(std::max<int64_t>(1, device.smCount)));
  launch.floorSeconds = device.graphLaunchSeconds + device.minKernelSeconds;
  launch.bandwidthSeconds =
      bytes / (device.copyBandwidth * std::max(share, 1e-9));
  launch.computeSeconds = double(launch.flops) / device.fp32Flops;
  launch.chainSeconds =
      launch.globalChain * device.globalLatencySeconds +
      launch.cachedChain * device.cachedLatencySeconds +
      (launch.l1Chain + launch.sharedChain) * device.sharedLatencySeconds;
  launch.issueSeconds =
      std::max(launch.busiestInstructions / device.clockHz,
               launch.warpInstructions /
                   (double(device.smCount) * 4 * device.clockHz));
  std::pair<double, const char *> terms[] = {
      {launch.floorSeconds, "floor"},
      {launch.bandwidthSeconds, "bandwidth"},
      {launch.computeSeconds, "compute"},
      {launch.chainSeconds, "chain"},
      {launch.issueSeconds, "issue"}};
  auto largest = std::max_element(
      std::begin(terms), std::end(terms),
      [](const auto &a, const auto &b) { return a.first < b.first; });
  launch.estimateSeconds = largest->first;
  launch.bound = largest->second;
}

int64_t constantOr(Value value, int64_t fallback) {
  std::optional<int64_t> constant = getConstantIntValue(value);
  return constant ? *constant : fallback;
}

} // namespace

FailureOr<KernelReport> analyzeKernels(ModuleOp module,
                                       const DeviceModel &device) {
  KernelReport report;
  report.device = device;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal())
      continue;
    EntryReport entry;
    entry.name = func.getSymName().str();
    WalkResult walk = func.walk([&](gpu::LaunchFuncOp launch) {
      auto kernel = SymbolTable::lookupNearestSymbolFrom<gpu::GPUFuncOp>(
          launch, launch.getKernel());
      if (!kernel) {
        launch.emitError("kernel report: cannot find the launched kernel");
        return WalkResult::interrupt();
      }
      LaunchReport item;
      item.kernel = (launch.getKernelModuleName().getValue() + "::" +
                     launch.getKernelName().getValue())
                        .str();
      gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
      gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
      Value sizes[6] = {grid.x, grid.y, grid.z, block.x, block.y, block.z};
      for (int d = 0; d < 6; ++d) {
        int64_t size = constantOr(sizes[d], -1);
        if (size < 0) {
          item.notes.push_back("a launch size is not a constant; taken as 1");
          item.exact = false;
          size = 1;
        }
        (d < 3 ? item.grid[d] : item.block[d - 3]) = size;
      }
      LaunchAnalysis(device, kernel, launch, item).run();
      evaluate(device, item);
      entry.estimateSeconds += item.estimateSeconds;
      entry.launches.push_back(std::move(item));
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();
    if (!entry.launches.empty())
      report.entries.push_back(std::move(entry));
  }
  return report;
}

void attachPtxasResources(KernelReport &report, StringRef log) {
  // ptxas -v prints, per function:
  //   Compiling entry function 'k' for 'sm_90'
  //   ... bytes stack frame, N bytes spill stores, M bytes spill loads
  //   Used R registers, ... S bytes smem ...
  llvm::StringMap<KernelResources> byFunction;
  std::string current;
  llvm::Regex entryLine("Compiling entry function '([^']+)'");
  llvm::Regex frameLine("([0-9]+) bytes stack frame, ([0-9]+) bytes spill "
                        "stores, ([0-9]+) bytes spill loads");
  llvm::Regex usedLine("Used ([0-9]+) registers");
  llvm::Regex smemLine("([0-9]+) bytes smem");
  SmallVector<StringRef> lines;
  log.split(lines, '\n');
  for (StringRef line : lines) {
    SmallVector<StringRef> m;
    if (entryLine.match(line, &m)) {
      current = m[1].str();
      byFunction[current];
      continue;
    }
    if (current.empty())
      continue;
    KernelResources &resources = byFunction[current];
    if (frameLine.match(line, &m)) {
      m[1].getAsInteger(10, resources.stackBytes);
      m[2].getAsInteger(10, resources.spillStoreBytes);
      m[3].getAsInteger(10, resources.spillLoadBytes);
    }
    if (usedLine.match(line, &m))
      m[1].getAsInteger(10, resources.registers);
    if (smemLine.match(line, &m))
      m[1].getAsInteger(10, resources.sharedBytes);
  }
  for (EntryReport &entry : report.entries)
    for (LaunchReport &launch : entry.launches) {
      StringRef function = StringRef(launch.kernel).rsplit("::").second;
      auto it = byFunction.find(function);
      if (it != byFunction.end())
        launch.resources = it->second;
    }
}

llvm::json::Value toJson(const KernelReport &report) {
  auto us = [](double seconds) { return std::round(seconds * 1e9) / 1e3; };
  llvm::json::Array entries;
  for (const EntryReport &entry : report.entries) {
    llvm::json::Array launches;
    for (const LaunchReport &l : entry.launches) {
      llvm::json::Object item{
          {"kernel", l.kernel},
          {"grid", llvm::json::Array{l.grid[0], l.grid[1], l.grid[2]}},
          {"block", llvm::json::Array{l.block[0], l.block[1], l.block[2]}},
          {"threads", l.threads},
          {"active_threads", l.activeThreads},
          {"bytes_read", l.bytesRead},
          {"bytes_written", l.bytesWritten},
          {"vector16_fraction", std::round(l.vector16Fraction * 1000) / 1000},
          {"flops", l.flops},
          {"source", l.source},
          // Dependent global loads of the busiest thread (DRAM + L2), and
          // the split of its chain by where each load is served.
          {"chain_global_loads",
           std::round((l.globalChain + l.cachedChain) * 10) / 10},
          {"chain",
           llvm::json::Object{{"dram", std::round(l.globalChain * 10) / 10},
                              {"l2", std::round(l.cachedChain * 10) / 10},
                              {"l1", std::round(l.l1Chain * 10) / 10},
                              {"shared", std::round(l.sharedChain * 10) / 10}}},
          {"busiest_thread_instructions", std::round(l.busiestInstructions)},
          {"terms_us",
           llvm::json::Object{{"floor", us(l.floorSeconds)},
                              {"bandwidth", us(l.bandwidthSeconds)},
                              {"compute", us(l.computeSeconds)},
                              {"chain", us(l.chainSeconds)},
                              {"issue", us(l.issueSeconds)}}},
          {"estimate_us", us(l.estimateSeconds)},
          {"bound", l.bound},
          {"exact", l.exact},
      };
      if (l.resources)
        item["ptxas"] = llvm::json::Object{
            {"registers", l.resources->registers},
            {"spill_store_bytes", l.resources->spillStoreBytes},
            {"spill_load_bytes", l.resources->spillLoadBytes},
            {"shared_bytes", l.resources->sharedBytes},
            {"stack_bytes", l.resources->stackBytes}};
      if (!l.notes.empty()) {
        llvm::json::Array notes;
        for (const std::string &text : l.notes)
          notes.push_back(text);
        item["notes"] = std::move(notes);
      }
      launches.push_back(std::move(item));
    }
    entries.push_back(llvm::json::Object{
        {"name", entry.name},
        {"launches", std::move(launches)},
        {"estimate_us", us(entry.estimateSeconds)}});
  }
  const DeviceModel &d = report.device;
  return llvm::json::Object{
      {"model", "docs/cuda.md#performance-model"},
      {"device",
       llvm::json::Object{{"name", d.name},
                          {"copy_bandwidth_gbps", d.copyBandwidth / 1e9},
                          {"sm_count", d.smCount},
                          {"clock_ghz", d.clockHz / 1e9},
                          {"fp32_tflops", d.fp32Flops / 1e12},
                          {"graph_launch_us", d.graphLaunchSeconds * 1e6},
                          {"min_kernel_us", d.minKernelSeconds * 1e6},
                          {"global_latency_us", d.globalLatencySeconds * 1e6},
                          {"cached_latency_us", d.cachedLatencySeconds * 1e6},
                          {"shared_latency_us", d.sharedLatencySeconds * 1e6},
                          {"unroll", d.unroll},
                          {"loads_in_flight", d.loadsInFlight}}},
      {"entries", std::move(entries)}};
}

} // namespace winnow

"""Independent NumPy reference for Winnow's chunking ops.

Written from the op descriptions in
dialects/include/winnow/Dialect/Tok/IR/ChunkOps.td (the family's segment rule
at the top of the file included) and from ops-reference §3.1 and §8 "H-Net".
It deliberately does not follow the compiler's lowering: everything here is
plain loop-over-rows code that visibly matches the written semantics.

  boundary(q, k, lengths) -> (p [B, L] float64, boundaries [B, L] bool)
  segment_starts(boundaries_row, length) -> [s_0 = 0, s_1, ...]
  segment_reduce(x, boundaries, lengths, reduction, capacity)
      -> (out [B, C, D] float64, count [B] int32, acc_bound [B, C] float64)
  ema_scan(x, gates, count, epsilon) -> [B, C, D] float64
  ema_scan_fp32(x, gates, count, epsilon, scan_block) -> the op's fp32 bits
  expand(x, boundaries, lengths, residual, residual_dtype) -> [B, L, D] float32 values
      (already rounded to the result's element type)

Values are logical (bf16/f16 inputs already decoded to float32 values).
Tolerance helpers: ulp(values, dtype) and round_to(values, dtype).
Needs only NumPy; run with Debian's /usr/bin/python3.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prune_oracle import round_to_bf16  # noqa: E402

U32 = 2.0 ** -24  # unit roundoff of fp32
NORM_FLOOR = 1e-12

# ---------------------------------------------------------------------------
# Element-type helpers
# ---------------------------------------------------------------------------


def round_to(values, dt):
    """float values -> the nearest value of element type dt (RNE), as float64.

    Values are rounded directly from float64 (bf16 via float32 first: the
    double rounding f64 -> f32 -> bf16 is covered by the callers' 1-ulp slack).
    """
    v = np.asarray(values, dtype=np.float64)
    if dt == "f32":
        return v.astype(np.float32).astype(np.float64)
    if dt == "f16":
        with np.errstate(over="ignore"):
            return v.astype(np.float16).astype(np.float64)
    if dt == "bf16":
        with np.errstate(over="ignore"):
            return round_to_bf16(v.astype(np.float32)).astype(np.float64)
    raise ValueError(dt)


def ulp(values, dt):
    """The spacing of element type dt at |values| (finite values)."""
    a = np.abs(np.asarray(values, dtype=np.float64))
    a = np.where(np.isfinite(a), a, 0.0)
    with np.errstate(over="ignore"):
        if dt == "f32":
            return np.spacing(a.astype(np.float32)).astype(np.float64)
        if dt == "f16":
            return np.spacing(np.minimum(a, 65504.0).astype(np.float16)).astype(np.float64)
        if dt == "bf16":
            # bf16 has fp32's exponent and 8 significand bits (7 stored).
            return np.spacing(a.astype(np.float32)).astype(np.float64) * 65536.0
    raise ValueError(dt)


def valid_length(lengths, b, L):
    """len_b = clamp(lengths[b], 0, L); L when lengths is absent."""
    if lengths is None:
        return L
    return min(max(int(lengths[b]), 0), L)


# ---------------------------------------------------------------------------
# tok.boundary
# ---------------------------------------------------------------------------


def _normalise(x):
    n = np.sqrt(np.sum(x * x))
    return x / max(n, NORM_FLOOR)


def boundary(q, k, lengths=None):
    """Reference for tok.boundary in float64: (p [B, L], boundaries [B, L] bool).

    p[b, 0] = 1 when len_b >= 1; p[b, t] = clamp((1 - <n(q[t-1]), n(k[t])>)/2, 0, 1)
    for 0 < t < len_b; padding 0. boundary = p > 0.5.
    """
    q = np.asarray(q, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    B, L, _ = q.shape
    p = np.zeros((B, L), dtype=np.float64)
    for b in range(B):
        n = valid_length(lengths, b, L)
        if n >= 1:
            p[b, 0] = 1.0
        for t in range(1, n):
            cos = float(np.dot(_normalise(q[b, t - 1]), _normalise(k[b, t])))
            p[b, t] = min(max((1.0 - cos) / 2.0, 0.0), 1.0)
    return p, p > 0.5


# ---------------------------------------------------------------------------
# The segment rule
# ---------------------------------------------------------------------------


def segment_starts(brow, length):
    """Starts of the segments of one row: 0 (when length >= 1) and every
    boundary at 0 < t < length. Padding is never a boundary."""
    if length < 1:
        return []
    return [0] + [t for t in range(1, length) if bool(brow[t])]


def segment_ids(brow, length, L):
    """c(t) = (number of segment starts <= t) - 1 for t < length, -1 after."""
    c = np.full((L,), -1, dtype=np.int64)
    starts = segment_starts(brow, length)
    j = -1
    for t in range(length):
        if j + 1 < len(starts) and starts[j + 1] == t:
            j += 1
        c[t] = j
    return c


# ---------------------------------------------------------------------------
# tok.segment_reduce
# ---------------------------------------------------------------------------


def segment_reduce(x, boundaries, lengths=None, reduction="first", capacity=None):
    """Reference for tok.segment_reduce.

    Returns (out [B, C, D] float64 (exact for first/max; the float64 mean/sum
    otherwise), count [B] int32, acc_bound [B, C] float64): acc_bound bounds
    the error of an fp32 accumulation in any order plus the fp32 division
    of `mean` (0 for first/max). Rows j >= count are 0.
    """
    x = np.asarray(x, dtype=np.float64)
    B, L, D = x.shape
    C = L if capacity is None else capacity
    out = np.zeros((B, C, D), dtype=np.float64)
    bound = np.zeros((B, C), dtype=np.float64)
    count = np.zeros((B,), dtype=np.int32)
    for b in range(B):
        n = valid_length(lengths, b, L)
        starts = segment_starts(boundaries[b], n)
        count[b] = len(starts)
        ends = starts[1:] + [n]
        for j, (s, e) in enumerate(zip(starts, ends)):
            seg = x[b, s:e]
            m = e - s
            assert m >= 1
            if reduction == "first":
                out[b, j] = seg[0]
            elif reduction == "max":
                with np.errstate(invalid="ignore"):
                    v = seg.max(axis=0)  # np.max propagates NaN
                out[b, j] = v
            elif reduction in ("sum", "mean"):
                total = seg.sum(axis=0)
                absum = float(np.abs(seg).sum(axis=0).max()) if m > 1 else 0.0
                acc = (m - 1) * U32 / (1 - (m - 1) * U32) * absum
                if reduction == "sum":
                    out[b, j] = total
                    bound[b, j] = acc
                else:
                    out[b, j] = total / m
                    bound[b, j] = acc / m + 2 * U32 * float(np.abs(total / m).max())
            else:
                raise ValueError(reduction)
    return out, count, bound


# ---------------------------------------------------------------------------
# tok.ema_scan
# ---------------------------------------------------------------------------


def ema_scan(x, gates, count, epsilon=1e-4):
    """Reference for tok.ema_scan, in float64 (the op computes in fp32).

    n_b = clamp(count, 0, C); P = clamp(gate, eps, 1 - eps) (NaN stays NaN);
    zbar_j = P z_j + (1 - P) zbar_{j-1}; rows j >= n_b are 0.
    """
    x = np.asarray(x, dtype=np.float64)
    g = np.asarray(gates, dtype=np.float64)
    B, C, D = x.shape
    out = np.zeros((B, C, D), dtype=np.float64)
    for b in range(B):
        n = min(max(int(count[b]), 0), C)
        z = np.zeros((D,), dtype=np.float64)
        for j in range(n):
            P = g[b, j]
            if not np.isnan(P):
                P = min(max(P, epsilon), 1.0 - epsilon)
            z = P * x[b, j] + (1.0 - P) * z
            out[b, j] = z
    return out


def ema_scan_fp32(x, gates, count, epsilon=1e-4, scan_block=64):
    """tok.ema_scan's fp32 evaluation order, bit for bit (float32 NumPy ops,
    each rounded once, products before sums, no fused multiply-add):

    L_j = P z_j + (1 - P) L_{j-1} and Q_j = (1 - P) Q_{j-1}, restarted
    (L = 0, Q = 1) at every block of `scan_block` chunks; zbar_j = L_j in
    the first block, Q_j zbar_{sS-1} + L_j in block s >= 1.
    """
    f32 = np.float32
    x = np.asarray(x, dtype=f32)
    g = np.asarray(gates, dtype=f32)
    B, C, D = x.shape
    lo, hi = f32(epsilon), f32(1.0 - epsilon)
    out = np.zeros((B, C, D), dtype=f32)
    with np.errstate(over="ignore", invalid="ignore"):
        for b in range(B):
            n = min(max(int(count[b]), 0), C)
            local = np.zeros((D,), dtype=f32)
            decay = f32(1.0)
            carry = np.zeros((D,), dtype=f32)
            zbar = np.zeros((D,), dtype=f32)
            for j in range(n):
                P = np.minimum(np.maximum(g[b, j], lo), hi)  # NaN stays NaN
                keep = f32(1.0) - P
                if j % scan_block == 0:
                    local = np.zeros((D,), dtype=f32)
                    decay = f32(1.0)
                    carry = zbar
                local = P * x[b, j] + keep * local
                decay = keep * decay
                zbar = local if j < scan_block else decay * carry + local
                out[b, j] = zbar
    return out


# ---------------------------------------------------------------------------
# tok.expand
# ---------------------------------------------------------------------------


def expand(x, boundaries, lengths=None, residual=None, residual_dtype=None):
    """Reference for tok.expand: [B, L, D] values of the result's element type.

    Without a residual the result is a copy of input rows (exact). With one,
    input + residual is formed in fp32 (a single IEEE fp32 addition of the two
    exactly representable operands) and rounded once to the residual's type.
    Tokens t >= len_b or with c(t) >= C are 0.
    """
    x = np.asarray(x, dtype=np.float32)
    B, C, D = x.shape
    bnd = np.asarray(boundaries)
    L = bnd.shape[1]
    out = np.zeros((B, L, D), dtype=np.float32)
    for b in range(B):
        n = valid_length(lengths, b, L)
        c = segment_ids(bnd[b], n, L)
        for t in range(n):
            if c[t] < C:
                v = x[b, c[t]]
                if residual is not None:
                    with np.errstate(over="ignore", invalid="ignore"):
                        v = v + np.asarray(residual[b, t], dtype=np.float32)
                out[b, t] = v
    if residual is not None and residual_dtype != "f32":
        out = round_to(out, residual_dtype).astype(np.float32)
    return out


# ---------------------------------------------------------------------------
# Self-check against hand-computed expectations
# ---------------------------------------------------------------------------


def _self_test():
    # boundary: orthogonal -> exactly 0.5 (not a boundary); anti-parallel -> 1;
    # parallel -> 0; zero vector -> 0.5; padding 0; previous q meets current k.
    q = np.array([[[1, 0], [0, 1], [1, 1], [0, 0], [3, 4]]], dtype=np.float64)
    k = np.array([[[9, 9], [0, 1], [0, -2], [5, 5], [1, 0]]], dtype=np.float64)
    p, b = boundary(q, k, [5])
    assert np.allclose(p[0], [1.0, 0.5, 1.0, 0.0, 0.5], rtol=0, atol=1e-15), p
    assert p[0, 1] == 0.5 and p[0, 4] == 0.5
    assert b[0].tolist() == [True, False, True, False, False]
    p, b = boundary(q, k, [2])
    assert p[0].tolist() == [1.0, 0.5, 0.0, 0.0, 0.0]
    p, _ = boundary(q, k, [0])
    assert not p.any()
    # tiny norm: n(x) = x / 1e-12, not a unit vector
    p, _ = boundary(np.array([[[2e-13, 0.0], [0, 0]]]), np.array([[[0, 0], [1.0, 0]]]))
    assert abs(p[0, 1] - 0.4) < 1e-12, p
    # segment rule: boundary at 0 absent still starts a segment; padding ignored
    br = np.array([False, False, True, True, False, True, True], dtype=bool)
    assert segment_starts(br, 5) == [0, 2, 3]
    assert segment_starts(br, 0) == []
    assert segment_ids(br, 5, 7).tolist() == [0, 0, 1, 2, 2, -1, -1]
    x = np.arange(7, dtype=np.float64).reshape(1, 7, 1)
    for red, exp in (("first", [0, 2, 3]), ("sum", [1, 2, 7]), ("mean", [0.5, 2, 3.5]),
                     ("max", [1, 2, 4])):
        o, n, _ = segment_reduce(x, br[None], [5], red, 8)
        assert n.tolist() == [3] and o[0, :, 0].tolist() == exp + [0] * 5, (red, o)
    x[0, 1, 0] = np.nan
    o, _, _ = segment_reduce(x, br[None], [5], "max", 7)
    assert np.isnan(o[0, 0, 0]) and o[0, 1, 0] == 2
    # ema: first chunk scaled by 1 - eps; NaN propagates; count clamped
    z = np.ones((1, 3, 1))
    e = ema_scan(z * 2, np.array([[1.0, 0.5, 0.0]]), [5], 1e-4)
    assert abs(e[0, 0, 0] - 2 * 0.9999) < 1e-15 and abs(e[0, 1, 0] - (1 + 0.9999)) < 1e-15
    e = ema_scan(z, np.array([[0.3, np.nan, 0.2]]), [2], 0.0)
    assert e[0, 0, 0] == 0.3 and np.isnan(e[0, 1, 0]) and e[0, 2, 0] == 0
    assert not ema_scan(z, np.array([[0.3, 0.1, 0.2]]), [-4]).any()
    # ema fp32 order: a block of the whole row is the plain fp32 walk; with
    # blocks of 2, chunk 2 joins chunk 1's value: Q_2 zbar_1 + L_2 exactly
    zs = np.array([[[3.0], [5.0], [7.0]]], dtype=np.float32)
    gs = np.array([[1.0, 0.25, 0.5]], dtype=np.float32)
    f = ema_scan_fp32(zs, gs, [3], 0.0, scan_block=3)
    assert f[0, :, 0].tolist() == [3.0, 3.5, 5.25], f
    f2 = ema_scan_fp32(zs, gs, [3], 0.0, scan_block=2)
    assert f2[0, 2, 0] == 0.5 * f2[0, 1, 0] + 0.5 * 7 and f2[0, 1, 0] == f[0, 1, 0]
    assert np.isnan(ema_scan_fp32(zs, np.array([[0.3, np.nan, 0.2]]), [3], 0.0, 2)[0, 2, 0])
    # expand
    xs = np.array([[[10.0], [20.0]]], dtype=np.float32)
    o = expand(xs, br[None], [5])
    assert o[0, :, 0].tolist() == [10, 10, 20, 0, 0, 0, 0]  # c = 2 >= C -> 0
    o = expand(xs, br[None], [5], np.ones((1, 7, 1), np.float32), "bf16")
    assert o[0, :, 0].tolist() == [11, 11, 21, 0, 0, 0, 0]
    assert ulp([1.0], "bf16")[0] == 2.0 ** -7 and ulp([1.0], "f16")[0] == 2.0 ** -10
    assert round_to([1.0 + 2.0 ** -9], "bf16")[0] == 1.0


if __name__ == "__main__":
    _self_test()
    print("chunk_oracle self-test passed")

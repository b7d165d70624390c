"""Independent NumPy reference for Winnow's merging ops.

Written from the op descriptions in
dialects/include/winnow/Dialect/Tok/IR/MergeOps.td (tok.bipartite_plan,
tok.scatter_merge) and from ops-reference §2.1, §2.2 and §8 "ToMe". It
deliberately does not follow the compiler's lowering: everything here is
plain loop-over-rows code that visibly matches the written semantics, in
float64 (similarities, merged values) or Python integers (plans).

  bipartite_plan(metric, r=None, threshold=None, class_token, distill_token,
                 exact=False)   (exact: one flag, or one per batch row)
      -> (parent [B, N] int32, count [B] int32, info: one dict per batch row)
  scatter_merge(parent, count, sources, sizes, reduction, capacity)
      -> (merged [per source, [B, C, ...] float64], bounds [per source, [B, C]],
          single [B, C] bool (rows with exactly one member: bit-exact copies),
          merged_sizes [B, C] float64, sizes_bound [B, C])
  unmerge(parent, merged, N) -> [B, N, ...]   (tok.compact %parent, N gather(merged))

Pinned readings used here (see the report that came with this file):
  * NaN similarities never win: they act as -inf in the argmax and in the
    rank, so an A row whose similarities are all NaN has best = -inf and
    dst = the first candidate column (B[0], or B[1] with distill_token), and
    ranks with the -inf rows by index.
  * class_token: A[0] is never a source, even when other A rows tie with it
    at -inf (NaN rows); the sources are the first r' of the rank without A[0].
  * distill_token with N = 3 (B = {token 1}, the distillation token) leaves
    no eligible destination: the plan is the identity, whatever r is.
  * `r' <= 0 is the identity` concerns a fixed r (r' is its clamped value);
    in threshold mode a row without a source still comes out as A[unmerged]
    (rank order, or index order with class_token) then B.

Near-ties: Winnow computes similarities in fp32, so two candidates whose
float64 similarities differ by less than `sim_tol(Cm)` may come out in
either order. A batch row whose plan depends on such a near-tie is marked
ambiguous (info["ambiguous"]) and its plan is not compared. Ties between
similarities that are provably equal in fp32 too are exact and follow the
pinned rules: the same pair of metric rows (duplicated rows, all-equal
metrics), a zero row (similarity exactly 0), masked (-inf / NaN) entries,
and with exact=True every value (inputs whose similarities are exact in
fp32, e.g. +-1 entries with power-of-two norms).

Needs only NumPy; run with Debian's /usr/bin/python3.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prune_oracle import compact  # noqa: E402

U32 = 2.0 ** -24
NORM_FLOOR = 1e-12
NEG_INF = float("-inf")


def sim_tol(cm):
    """Bound on |fp32 similarity - float64 similarity| for unit-norm rows."""
    return 1e-6 + (cm + 4) * U32


def effective_r(N, r, n_protected, distill_token=False):
    """r' = min(r, (N - protected) // 2), and 0 without an eligible
    destination (every B token is the distillation token)."""
    if N // 2 - int(bool(distill_token)) <= 0:
        return 0
    return max(0, min(int(r), (N - n_protected) // 2))


# ---------------------------------------------------------------------------
# tok.bipartite_plan
# ---------------------------------------------------------------------------


def _row_keys(m):
    """A hashable identity per metric row (its bytes); None for zero rows;
    'nan' for rows with a NaN."""
    keys = []
    for v in m:
        if np.isnan(v).any():
            keys.append("nan")
        elif not v.any():
            keys.append(None)
        else:
            keys.append(np.asarray(v, np.float64).tobytes())
    return keys


def _plan_row(m, r, threshold, class_token, distill_token, exact):
    """One batch row. m [N, Cm] float64. Returns (parent list, count, info)."""
    N, Cm = m.shape
    info = {"ambiguous": False, "why": [], "sources": [], "r_eff": 0}
    identity = (list(range(N)), N, info)
    if N <= 1:
        return identity
    n_prot = int(class_token) + int(distill_token)
    if threshold is None:
        r_eff = effective_r(N, r, n_prot, distill_token)
        if r_eff <= 0:
            return identity
    A = list(range(0, N, 2))
    Bt = list(range(1, N, 2))
    Na, Nb = len(A), len(Bt)
    tol = 0.0 if exact else sim_tol(Cm)
    keys = _row_keys(m)

    # Similarities (float64): normalise, then dot.
    norms = np.sqrt(np.sum(m * m, axis=1))
    with np.errstate(invalid="ignore"):
        mn = m / np.maximum(norms, NORM_FLOOR)[:, None]
    S = np.zeros((Na, Nb))
    K = [[None] * Nb for _ in range(Na)]   # identity of each S entry
    for a in range(Na):
        for b in range(Nb):
            ka, kb = keys[A[a]], keys[Bt[b]]
            masked = (class_token and a == 0) or (distill_token and b == 0)
            with np.errstate(invalid="ignore"):
                s = float(np.dot(mn[A[a]], mn[Bt[b]]))
            if masked or np.isnan(s) or ka == "nan" or kb == "nan":
                S[a, b], K[a][b] = NEG_INF, "-inf"   # NaN never wins: as -inf
            elif ka is None or kb is None:
                S[a, b], K[a][b] = 0.0, ("exact", 0.0) if exact else "zero"
            else:
                S[a, b] = s
                K[a][b] = ("exact", s) if exact else tuple(sorted((ka, kb)))

    def same(k1, k2):
        return k1 == k2 and not (isinstance(k1, tuple) and k1 and k1[0] == "amb")

    # best / dst: the first maximal column.
    best, dst, bkey = [], [], []
    cols = list(range(1 if distill_token else 0, Nb))  # B[0] is never a destination
    for a in range(Na):
        row = S[a]
        mx = max((row[b] for b in cols), default=NEG_INF)
        d = next((b for b in cols if row[b] == mx), 0)  # the first maximal column
        key = K[a][d] if cols else "-inf"
        if mx != NEG_INF:
            near = [b for b in cols if row[b] >= mx - tol]
            if any(not same(K[a][b], key) for b in near):
                key = ("amb", a)
                info["why"].append("dst of A[%d] (token %d) within %.1e" % (a, A[a], tol))
        best.append(mx)
        dst.append(d)
        bkey.append(key)
    amb_dst = {a for a in range(Na) if isinstance(bkey[a], tuple) and bkey[a] and bkey[a][0] == "amb"}
    info["why"] = []  # kept only for the ambiguities that matter (below)

    rank = sorted(range(Na), key=lambda a: (-best[a], a))
    candidates = [a for a in rank if not (class_token and a == 0)]
    if threshold is None:
        sources = candidates[:r_eff]
    else:
        sources = [a for a in candidates if best[a] > threshold]
        for a in candidates:
            if best[a] != NEG_INF and abs(best[a] - threshold) <= tol and not exact:
                info["ambiguous"] = True
                info["why"].append("best of A[%d] = %.9g within %.1e of the threshold" % (
                    a, best[a], tol))
        # No source in threshold mode is not the identity: r' (and its
        # identity rule) belongs to a fixed r; the output is still
        # A[unmerged] (rank order, or index order with class_token) then B.
    src_set = set(sources)
    unmerged = [a for a in rank if a not in src_set]
    if class_token:
        unmerged.sort()
    info["sources"] = [A[a] for a in sources]
    info["r_eff"] = len(sources)

    # Near-ties that change the plan: the dst of a source; the order of two
    # rows on either side of the source boundary (fixed r); the order of two
    # unmerged rows when their order is the rank order (no class_token).
    for a in sources:
        if a in amb_dst:
            info["ambiguous"] = True
            info["why"].append("dst of source A[%d] (token %d) within %.1e" % (a, A[a], tol))
        if not cols:
            info["ambiguous"] = True
            info["conflict"] = True
            info["why"].append("spec conflict: r' = %d but the only B token is the "
                               "distillation token, which is never a destination" % len(sources))
    for i in range(Na):
        for j in range(i + 1, Na):
            a1, a2 = rank[i], rank[j]
            if best[a1] == NEG_INF or best[a2] == NEG_INF:
                continue
            if abs(best[a1] - best[a2]) > tol:
                continue
            if same(bkey[a1], bkey[a2]) and best[a1] == best[a2]:
                continue  # provably equal: ties to the lower index
            straddle = threshold is None and ((a1 in src_set) != (a2 in src_set))
            order = not class_token and a1 not in src_set and a2 not in src_set
            if straddle or order:
                info["ambiguous"] = True
                info["why"].append("best of tokens %d and %d within %.1e (%s)" % (
                    A[a1], A[a2], tol, "source boundary" if straddle else "output order"))

    parent = [0] * N
    U = len(unmerged)
    for row, a in enumerate(unmerged):
        parent[A[a]] = row
    for j in range(Nb):
        parent[Bt[j]] = U + j
    for a in sources:
        parent[A[a]] = U + dst[a]
    info["best"] = best
    info["dst"] = dst
    return parent, U + Nb, info


def bipartite_plan(metric, r=None, threshold=None, class_token=False, distill_token=False,
                   exact=False):
    """Reference for tok.bipartite_plan: (parent [B, N] int32, count [B] int32, infos)."""
    assert (r is None) != (threshold is None)
    metric = np.asarray(metric, dtype=np.float64)
    B, N, _ = metric.shape
    parent = np.zeros((B, N), np.int32)
    count = np.zeros((B,), np.int32)
    infos = []
    ex = list(exact) if isinstance(exact, (list, tuple, np.ndarray)) else [exact] * B
    for b in range(B):
        p, c, info = _plan_row(metric[b], r, threshold, class_token, distill_token,
                               bool(ex[b % len(ex)]))
        parent[b] = p
        count[b] = c
        infos.append(info)
    return parent, count, infos


def plan_capacity(N, r=None, threshold=None, class_token=False, distill_token=False):
    """N - r' for a fixed r, N for a threshold (the op's getMaxOutputRows)."""
    if threshold is not None:
        return N
    return N - effective_r(N, r, int(class_token) + int(distill_token),
                           distill_token)


# ---------------------------------------------------------------------------
# tok.scatter_merge
# ---------------------------------------------------------------------------


def _gamma(n):
    return n * U32 / (1 - n * U32) if n > 0 else 0.0


def members(parent, count, C):
    """members[b][j] = ascending input tokens i with parent[b, i] == j < n_b."""
    parent = np.asarray(parent)
    B, N = parent.shape
    out = []
    for b in range(B):
        n = min(max(int(count[b]), 0), C)
        rows = [[] for _ in range(C)]
        for i in range(N):
            j = int(parent[b, i])
            if 0 <= j < n:
                rows[j].append(i)
        out.append(rows)
    return out


def scatter_merge(parent, count, sources, sizes=None, reduction="weighted_mean", capacity=None):
    """Reference for tok.scatter_merge.

    sources: list of [B, N, ...] float value arrays (bf16/f16 decoded).
    Returns (merged, bounds, single, merged_sizes, sizes_bound): merged[s] is
    [B, C, ...] float64 (the exact value; for rows with one member the
    member itself), bounds[s] [B, C] bounds the error of an fp32
    accumulation in ascending order plus the fp32 division (before the final
    rounding to the element type), single [B, C] marks rows with exactly one
    member, merged_sizes [B, C] float64 with its fp32-sum bound.
    """
    parent = np.asarray(parent)
    B, N = parent.shape
    C = capacity
    w = np.ones((B, N)) if sizes is None else np.asarray(sizes, dtype=np.float64)
    mem = members(parent, count, C)
    single = np.zeros((B, C), bool)
    msizes = np.zeros((B, C))
    sbound = np.zeros((B, C))
    for b in range(B):
        for j in range(C):
            ii = mem[b][j]
            single[b, j] = len(ii) == 1
            if ii:
                msizes[b, j] = float(np.sum(w[b, ii]))
                sbound[b, j] = _gamma(len(ii) - 1) * float(np.sum(np.abs(w[b, ii])))
    merged, bounds = [], []
    for src in sources:
        x = np.asarray(src, dtype=np.float64)
        feat = x.shape[2:]
        xf = x.reshape(B, N, -1)
        out = np.zeros((B, C, xf.shape[2]))
        bnd = np.zeros((B, C))
        for b in range(B):
            for j in range(C):
                ii = mem[b][j]
                m = len(ii)
                if m == 0:
                    continue
                v = xf[b, ii]
                if m == 1:
                    out[b, j] = v[0]
                    continue
                with np.errstate(invalid="ignore", over="ignore"):
                    if reduction == "amax":
                        out[b, j] = np.max(v, axis=0)  # np.max propagates NaN
                    elif reduction == "sum":
                        out[b, j] = v.sum(axis=0)
                        bnd[b, j] = _gamma(m - 1) * float(np.nanmax(np.abs(v).sum(axis=0)))
                    elif reduction == "mean":
                        q = v.sum(axis=0) / m
                        out[b, j] = q
                        bnd[b, j] = (_gamma(m - 1) * float(np.nanmax(np.abs(v).sum(axis=0))) / m
                                     + 2 * U32 * float(np.nanmax(np.abs(q))))
                    elif reduction == "weighted_mean":
                        ww = w[b, ii]
                        den = float(ww.sum())
                        if den == 0.0:
                            continue  # a weight sum of 0 is 0
                        num = (ww[:, None] * v).sum(axis=0)
                        q = num / den
                        out[b, j] = q
                        g = _gamma(m)
                        den_lo = max(abs(den) - _gamma(m - 1) * float(np.abs(ww).sum()), 1e-300)
                        bnd[b, j] = ((g * float(np.nanmax((np.abs(ww)[:, None] * np.abs(v)).sum(axis=0)))
                                      + float(np.nanmax(np.abs(q))) * _gamma(m - 1)
                                      * float(np.abs(ww).sum())) / den_lo
                                     + 2 * U32 * float(np.nanmax(np.abs(q))))
                    else:
                        raise ValueError(reduction)
        merged.append(out.reshape((B, C) + feat))
        bounds.append(bnd)
    return merged, bounds, single, msizes, sbound


def unmerge(parent, merged, N):
    """ToMe's unmerge: tok.compact %parent, %all gather(%merged) with %all = N."""
    B = np.asarray(parent).shape[0]
    (out,), _ = compact(parent, np.full((B,), N, np.int32), [merged])
    return out


# ---------------------------------------------------------------------------
# Self-check against hand-computed expectations
# ---------------------------------------------------------------------------


def _self_test():
    # t0 ~ t1 (cos 1), t2 ~ t3 (cos 1/sqrt2), t0 . t3 = 1/sqrt2, t2 . t1 = 0.
    m = np.array([[[1, 0], [1, 0], [0, 1], [1, 1]]], np.float64)
    p, n, _ = bipartite_plan(m, r=1)
    assert p[0].tolist() == [1, 1, 0, 2] and n[0] == 3, p
    p, n, _ = bipartite_plan(m, r=1, class_token=True)
    assert p[0].tolist() == [0, 1, 2, 2] and n[0] == 3, p
    p, n, _ = bipartite_plan(m, threshold=0.8)
    assert p[0].tolist() == [1, 1, 0, 2] and n[0] == 3, p
    p, n, _ = bipartite_plan(m, threshold=0.5)
    assert p[0].tolist() == [0, 0, 1, 1] and n[0] == 2, p
    p, n, _ = bipartite_plan(m, threshold=2.0)        # no source: A (rank order), then B
    assert p[0].tolist() == [0, 2, 1, 3] and n[0] == 4, p
    p, n, _ = bipartite_plan(m, threshold=2.0, class_token=True)  # A by index, then B
    assert p[0].tolist() == [0, 2, 1, 3] and n[0] == 4, p
    for r in (0, -3):
        p, n, _ = bipartite_plan(m, r=r)
        assert p[0].tolist() == [0, 1, 2, 3] and n[0] == 4
    p, n, _ = bipartite_plan(m, r=99)                  # clamped to N/2 = 2
    assert p[0].tolist() == [0, 0, 1, 1] and n[0] == 2
    p, n, _ = bipartite_plan(m[:, :1], r=5)            # N = 1
    assert p.tolist() == [[0]] and n[0] == 1
    p, n, _ = bipartite_plan(m[:, :2], r=5)            # N = 2
    assert p.tolist() == [[0, 0]] and n[0] == 1
    p, n, _ = bipartite_plan(m[:, :2], r=5, class_token=True)  # (2-1)//2 = 0
    assert p.tolist() == [[0, 1]] and n[0] == 2
    # Unmerged A in rank order without class_token: N = 6, r = 1.
    m = np.array([[[1, 0], [0, 1], [1, 0.2], [1, 0], [0.1, 1], [9, 9]]], np.float64)
    p, n, info = bipartite_plan(m, r=1)
    # A = 0, 2, 4; best: 0 -> 1 (t3), 2 -> ~.98 (t3), 4 -> ~.99 (t1); rank 0, 4, 2
    assert info[0]["sources"] == [0] and p[0].tolist() == [3, 2, 1, 3, 0, 4], p
    # All-equal metrics: every tie to the lower index; distill moves dst to B[1].
    m = np.ones((1, 7, 3))
    p, n, _ = bipartite_plan(m, r=2)
    assert p[0].tolist() == [2, 2, 2, 3, 0, 4, 1] and n[0] == 5, p
    p, n, _ = bipartite_plan(m, r=2, distill_token=True)
    assert p[0].tolist() == [3, 2, 3, 3, 0, 4, 1], p
    # Zero rows: similarity 0, never NaN.
    p, n, _ = bipartite_plan(np.zeros((1, 5, 2)), r=1)
    assert p[0].tolist() == [2, 2, 0, 3, 1] and n[0] == 4, p
    # NaN rows never win; class_token keeps A[0] out of the sources.
    m = np.array([[[1, 0], [1, 0], [np.nan, 0], [0, 1], [np.nan, 1]]], np.float64)
    p, n, _ = bipartite_plan(m, r=2, class_token=True)  # A = 0 (cls), 2, 4 (NaN rows)
    assert p[0].tolist() == [0, 1, 1, 2, 1] and n[0] == 3, p
    # scatter_merge
    parent = np.array([[1, 1, 0, 2, 7, -1]])
    x = np.array([[[1.0], [3.0], [5.0], [7.0], [100.0], [100.0]]])
    sz = np.array([[1.0, 3.0, 2.0, 1.0, 1.0, 1.0]])
    for red, exp in (("sum", [5, 4, 7]), ("mean", [5, 2, 7]), ("amax", [5, 3, 7]),
                     ("weighted_mean", [5, 2.5, 7])):
        (o,), _, single, ms, _ = scatter_merge(parent, [5], [x], sz, red, 4)
        assert o[0, :, 0].tolist() == exp + [0], (red, o)
        assert ms[0].tolist() == [2, 4, 1, 0] and single[0].tolist() == [True, False, True, False]
    (o,), _, _, ms, _ = scatter_merge(parent, [2], [x], None, "weighted_mean", 4)
    assert o[0, :, 0].tolist() == [5, 2, 0, 0] and ms[0].tolist() == [1, 2, 0, 0]
    (o,), _, _, ms, _ = scatter_merge(parent, [-3], [x], None, "sum", 4)
    assert not o.any() and not ms.any()
    (o,), _, _, ms, _ = scatter_merge(parent, [5], [x], np.zeros((1, 6)), "weighted_mean", 4)
    assert o[0, :, 0].tolist() == [5, 0, 7, 0] and ms[0].tolist() == [0, 0, 0, 0]
    xn = x.copy()
    xn[0, 1, 0] = np.nan
    (o,), _, _, _, _ = scatter_merge(parent, [5], [xn], None, "amax", 4)
    assert np.isnan(o[0, 1, 0])
    u = unmerge(parent, np.array([[[10.0], [20.0], [30.0], [40.0]]]), 6)
    assert u[0, :, 0].tolist() == [20, 20, 10, 30, 0, 0], u


if __name__ == "__main__":
    _self_test()
    print("merge_oracle self-test passed")


def weighted_gather(indices, weights, x):
    """tok.weighted_gather: y[b, j] = sum over k with 0 <= indices[b, j, k] < N
    of weights[b, j, k] * x[b, indices[b, j, k]], in float64 (x already holds
    the input's values). Also returns the fp32 accumulation bound per output
    row (K + 1 roundings of the largest partial sums' magnitude) and which
    rows are one-hot (a single valid entry of weight 1: an exact copy)."""
    idx = np.asarray(indices, np.int64)
    w = np.asarray(weights, np.float64)
    x = np.asarray(x, np.float64)
    B, M, K = idx.shape
    N = x.shape[1]
    ref = np.zeros((B, M) + x.shape[2:])
    magnitude = np.zeros((B, M))
    one_hot = np.zeros((B, M), bool)
    for b in range(B):
        for j in range(M):
            valid = [k for k in range(K) if 0 <= idx[b, j, k] < N]
            total = np.zeros(x.shape[2:])
            absolute = np.zeros(x.shape[2:])
            for k in valid:
                term = w[b, j, k] * x[b, idx[b, j, k]]
                total = total + term
                with np.errstate(invalid="ignore"):
                    absolute = absolute + np.abs(term)
            ref[b, j] = total
            finite = absolute[np.isfinite(absolute)]
            magnitude[b, j] = finite.max() if finite.size else 0.0
            one_hot[b, j] = len(valid) == 1 and w[b, j, valid[0]] == 1.0
    bound = (K + 1) * 2.0 ** -24 * magnitude
    return ref, bound, one_hot


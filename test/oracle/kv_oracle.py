"""Independent NumPy reference for Winnow's KV-cache and diversity ops.

Written from the op descriptions in
dialects/include/winnow/Dialect/Tok/IR/KvOps.td (tok.kv_select,
tok.kv_gather) and DiversityOps.td (tok.k_center), and from ops-reference
§1.3(e)(g), §3.2 (SepLLM) and §8 "KV selection". It deliberately does not
follow the compiler's lowering: plain per-row / per-head Python that visibly
matches the written semantics (a sort where the lowering may use a radix
histogram, an explicit greedy loop in float64 for k-center).

  kv_select(lengths, T, H, capacity, scores, separators, sinks, window, heavy)
      -> (slots [B, H, C] int32, count [B, H] int32)
  kv_gather(slots, count, caches, position_mode)
      -> ([gathered [B, H, C, ...] per cache], positions [B, H, C] int32)
  k_center(x, k, capacity, lengths, first)
      -> (indices [B, C] int32, count [B] int32)       (float64, ties exact)
  k_center_verify(x, k, capacity, lengths, first, got_indices, got_count, tol)
      -> (ok, detail, near_ties): accepts Winnow's answer when it follows the
         greedy rule exactly, except that where the float64 running minima of
         two candidates lie within `tol` of each other without being equal
         (a near-tie that fp32 may resolve either way), either is accepted.

Values are logical (bf16/f16 inputs already decoded to float32 values).
Needs only NumPy; run with Debian's /usr/bin/python3.
"""

import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chunk_oracle import valid_length  # noqa: E402

NORM_FLOOR = 1e-12
KC_TIE_TOL = 1e-6  # default near-tie margin of the k-center running maxima

# ---------------------------------------------------------------------------
# tok.kv_select
# ---------------------------------------------------------------------------


def _rank(x):
    """Score -> the value it is ranked by: NaN with -inf, -0.0 == +0.0."""
    v = float(x)
    if math.isnan(v):
        return -math.inf
    return 0.0 if v == 0.0 else v


def kv_select_min_capacity(T, sinks, window, heavy, has_separators):
    """The smallest slot capacity the verifier accepts (KvOps.td)."""
    return T if has_separators else min(T, sinks + window + heavy)


def kv_select_row(length, T, sinks, window, heavy, scores_row=None, sep_row=None):
    """The kept slots (ascending list) of one (batch row, head)."""
    n = min(max(int(length), 0), T)
    kept = set(range(min(sinks, n)))                 # attention sinks
    kept |= set(range(max(n - window, 0), n))        # recent window
    if sep_row is not None:                          # separators (valid only)
        kept |= {t for t in range(n) if bool(sep_row[t])}
    if heavy > 0:
        assert scores_row is not None, "heavy hitters need scores"
        others = [t for t in range(n) if t not in kept]
        # larger first, ties to the lower slot, NaN ranked with -inf
        ranked = sorted(others, key=lambda t: (-_rank(scores_row[t]), t))
        kept |= set(ranked[:heavy])
    return sorted(kept)


def kv_select(lengths, T, H, capacity, scores=None, separators=None, sinks=0,
              window=0, heavy=0, row_budget=None):
    """Reference for tok.kv_select: (slots [B, H, C] int32, count [B, H] int32).
    row_budget [B, 3]: each request's own (sinks, window, heavy), each
    clamped to [0, the attribute's]."""
    lengths = np.asarray(lengths)
    B = lengths.shape[0]
    if scores is not None:
        scores = np.asarray(scores, dtype=np.float32)
        assert scores.shape == (B, H, T), (scores.shape, (B, H, T))
    if separators is not None:
        separators = np.asarray(separators).astype(bool)
        assert separators.shape == (B, T)
    slots = np.full((B, H, capacity), -1, dtype=np.int32)
    count = np.zeros((B, H), dtype=np.int32)
    for b in range(B):
        own = (sinks, window, heavy)
        if row_budget is not None:
            own = tuple(min(max(int(v), 0), most) for v, most in zip(row_budget[b], own))
        for h in range(H):
            kept = kv_select_row(lengths[b], T, *own,
                                 None if scores is None else scores[b, h],
                                 None if separators is None else separators[b])
            if len(kept) > capacity:
                raise AssertionError("oracle: (%d, %d) keeps %d > capacity %d"
                                     % (b, h, len(kept), capacity))
            slots[b, h, :len(kept)] = kept
            count[b, h] = len(kept)
    return slots, count


# ---------------------------------------------------------------------------
# tok.kv_gather
# ---------------------------------------------------------------------------


def kv_gather(slots, count, caches, position_mode="original"):
    """Reference for tok.kv_gather.

    caches: arrays [B, H, T, ...] (floats as logical values; the gathered
    arrays keep their dtype, padding 0). Returns ([gathered], positions).
    """
    slots = np.asarray(slots)
    count = np.asarray(count)
    B, H, C = slots.shape
    outs = []
    for cache in caches:
        cache = np.asarray(cache)
        assert cache.shape[:2] == (B, H)
        T = cache.shape[2]
        out = np.zeros((B, H, C) + cache.shape[3:], dtype=cache.dtype)
        for b in range(B):
            for h in range(H):
                n = min(max(int(count[b, h]), 0), C)
                for j in range(n):
                    s = int(slots[b, h, j])
                    if 0 <= s < T:
                        out[b, h, j] = cache[b, h, s]
        outs.append(out)
    T = np.asarray(caches[0]).shape[2] if caches else None
    positions = np.full((B, H, C), -1, dtype=np.int32)
    for b in range(B):
        for h in range(H):
            n = min(max(int(count[b, h]), 0), C)
            for j in range(n):
                s = int(slots[b, h, j])
                if s < 0 or (T is not None and s >= T):
                    continue  # a bad slot: -1
                positions[b, h, j] = s if position_mode == "original" else j
    return outs, positions


# ---------------------------------------------------------------------------
# tok.k_center
# ---------------------------------------------------------------------------


def _normalised_rows(x):
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        norms = np.sqrt(np.sum(x * x, axis=-1))
        return x / np.maximum(norms, NORM_FLOOR)[:, None]


def _dist_to(xn, s):
    """dist(j, s) = 1 - <n(x_j), n(x_s)> for every row j (NaN stays NaN)."""
    with np.errstate(invalid="ignore", over="ignore"):
        return 1.0 - xn @ xn[s]


def k_center_setup(x, k, lengths, first, b):
    """(len_b, n_picks, s0) of batch row b."""
    N = x.shape[1]
    n = valid_length(lengths, b, N)
    picks = 0 if (k <= 0 or n == 0) else min(k, n)
    s0 = 0
    if first is not None and n > 0:
        s0 = min(max(int(first[b]), 0), n - 1)
    return n, picks, s0


def _candidates(md, chosen, n, tol):
    """Acceptable next picks: [strict pick] + near-tied alternatives.

    md: running minima (float64), chosen: bool mask. The strict pick is the
    lowest index of the largest non-NaN value (all-NaN: the lowest index,
    NaN ranked with -inf). Alternatives: for every other distinct value
    within `tol` below the maximum, its lowest index.
    """
    cand = [j for j in range(n) if not chosen[j]]
    finite = [j for j in cand if not math.isnan(md[j])]
    if not finite:
        return [cand[0]]
    m = max(md[j] for j in finite)
    strict = min(j for j in finite if md[j] == m)
    alts = {}
    for j in finite:
        v = md[j]
        if v != m and v >= m - tol and v not in alts:
            alts[v] = j  # finite is ascending: the first is the lowest index
    return [strict] + sorted(alts.values(), key=lambda j: (-md[j], j))


def k_center_row(xb, n, picks, s0):
    """The strict greedy order (list) of one batch row, float64."""
    if picks == 0:
        return []
    xn = _normalised_rows(xb[:n])
    chosen = np.zeros(n, dtype=bool)
    order = [s0]
    chosen[s0] = True
    md = _dist_to(xn, s0)
    while len(order) < picks:
        j = _candidates(md, chosen, n, 0.0)[0]
        order.append(j)
        chosen[j] = True
        md = np.minimum(md, _dist_to(xn, j))  # NaN propagates
    return order


def k_center(x, k, capacity, lengths=None, first=None):
    """Reference for tok.k_center: (indices [B, C] int32, count [B] int32)."""
    x = np.asarray(x, dtype=np.float64)
    B = x.shape[0]
    idx = np.full((B, capacity), -1, dtype=np.int32)
    cnt = np.zeros((B,), dtype=np.int32)
    for b in range(B):
        n, picks, s0 = k_center_setup(x, k, lengths, first, b)
        order = sorted(k_center_row(x[b], n, picks, s0))
        assert len(order) <= capacity
        idx[b, :len(order)] = order
        cnt[b] = len(order)
    return idx, cnt


def k_center_verify(x, k, capacity, lengths, first, got_idx, got_cnt,
                    tol=KC_TIE_TOL):
    """Checks Winnow's k_center answer against the greedy rule.

    Returns (ok, detail, near_ties). Exact except at near-ties (see the module
    docstring): there every near-tied choice that Winnow's set contains is
    followed (depth-first, so a later contradiction backtracks).
    """
    x = np.asarray(x, dtype=np.float64)
    got_idx = np.asarray(got_idx).astype(np.int64)
    got_cnt = np.asarray(got_cnt).astype(np.int64)
    B = x.shape[0]
    exp_idx, exp_cnt = k_center(x, k, capacity, lengths, first)
    if not np.array_equal(exp_cnt, got_cnt):
        return False, "count: expected %s, got %s" % (exp_cnt.tolist(), got_cnt.tolist()), 0
    near_total = 0
    for b in range(B):
        n, picks, s0 = k_center_setup(x, k, lengths, first, b)
        row = got_idx[b]
        if np.any(row[picks:] != -1):
            return False, "batch %d: padding past count is not -1: %s" % (b, row.tolist()[:40]), 0
        got = row[:picks].tolist()
        if got != sorted(set(got)) or any(not (0 <= g < n) for g in got):
            return False, "batch %d: indices not ascending/unique/valid: %s" % (b, got[:40]), 0
        if got == exp_idx[b, :picks].tolist():
            # Also count near-ties on the strict path (for the report).
            near_total += _count_near_ties(x[b], n, picks, s0, tol)
            continue
        got_set = set(got)
        if picks and s0 not in got_set:
            return False, "batch %d: seed %d missing; expected %s, got %s" % (
                b, s0, exp_idx[b, :picks].tolist()[:40], got[:40]), 0
        xn = _normalised_rows(x[b, :n])
        res = _search(xn, n, picks, [s0], got_set, tol)
        if res is None:
            return False, "batch %d: not a greedy order even allowing near-ties (tol %g);" \
                " expected %s, got %s (first difference %s)" % (
                    b, tol, exp_idx[b, :picks].tolist()[:40], got[:40],
                    _first_strict_miss(x[b], n, picks, s0, got_set)), 0
        near_total += res
    return True, "", near_total


def _count_near_ties(xb, n, picks, s0, tol):
    if picks == 0:
        return 0
    xn = _normalised_rows(xb[:n])
    chosen = np.zeros(n, dtype=bool)
    chosen[s0] = True
    md = _dist_to(xn, s0)
    near = 0
    for _ in range(picks - 1):
        c = _candidates(md, chosen, n, tol)
        near += len(c) > 1
        chosen[c[0]] = True
        md = np.minimum(md, _dist_to(xn, c[0]))
    return near


def _first_strict_miss(xb, n, picks, s0, got_set):
    xn = _normalised_rows(xb[:n])
    chosen = np.zeros(n, dtype=bool)
    chosen[s0] = True
    md = _dist_to(xn, s0)
    for step in range(1, picks):
        j = _candidates(md, chosen, n, 0.0)[0]
        if j not in got_set:
            top = sorted([i for i in range(n) if not chosen[i] and not math.isnan(md[i])],
                         key=lambda i: (-md[i], i))[:4]
            return "step %d picks %d (min dist %.9g) not in Winnow's set; top: %s" % (
                step, j, md[j], ", ".join("%d:%.9g" % (i, md[i]) for i in top))
        chosen[j] = True
        md = np.minimum(md, _dist_to(xn, j))
    return "none"


def _search(xn, n, picks, order, got_set, tol):
    """DFS over near-tied choices restricted to got_set; near-tie count or None."""
    chosen = np.zeros(n, dtype=bool)
    md = None
    for s in order:
        chosen[s] = True
        d = _dist_to(xn, s)
        md = d if md is None else np.minimum(md, d)
    near = 0
    while len(order) < picks:
        c = _candidates(md, chosen, n, tol)
        options = [j for j in c if j in got_set]
        if not options:
            return None
        if len(c) > 1:
            near += 1
        if len(options) > 1:
            for j in options:
                r = _search(xn, n, picks, order + [j], got_set, tol)
                if r is not None:
                    return near + 1 + r
            return None
        j = options[0]
        order = order + [j]
        chosen[j] = True
        md = np.minimum(md, _dist_to(xn, j))
    return near


# ---------------------------------------------------------------------------
# Self-check of the reference against hand-computed expectations.
# ---------------------------------------------------------------------------


def _self_test():
    nan = float("nan")
    # kv_select: sinks + window, clamped lengths, short cache keeps all.
    s, c = kv_select([10, 3, -2, 99], 10, 1, 5, np.zeros((4, 1, 10)), None, 2, 3, 0)
    assert c[:, 0].tolist() == [5, 3, 0, 5], c
    assert s[0, 0].tolist() == [0, 1, 7, 8, 9] and s[1, 0].tolist() == [0, 1, 2, -1, -1]
    assert s[3, 0].tolist() == [0, 1, 7, 8, 9] and s[2, 0].tolist() == [-1] * 5
    # heavy: larger first, ties lower, NaN as -inf, -0.0 == 0.0
    sc = np.array([[[5, nan, 3, 3, -0.0, 0.0, -np.inf, 9, 1, 1]]], dtype=np.float32)
    s, c = kv_select([10], 10, 1, 6, sc, None, 1, 2, 3)
    assert s[0, 0].tolist() == [0, 2, 3, 7, 8, 9] and c[0, 0] == 6, s
    s, c = kv_select([10], 10, 1, 10, sc, None, 0, 0, 7)
    assert s[0, 0].tolist() == [0, 2, 3, 4, 7, 8, 9, -1, -1, -1], s  # -0.0 (4) before 0.0 (5)
    s, c = kv_select([10], 10, 1, 10, sc, None, 0, 0, 9)
    assert s[0, 0].tolist() == [0, 1, 2, 3, 4, 5, 7, 8, 9, -1], s  # NaN (1) ties -inf (6): 1 wins
    # separators: inside sinks/window not double counted, padding ignored
    sep = np.zeros((1, 10), bool)
    sep[0, [0, 4, 8, 9]] = True
    s, c = kv_select([9], 10, 2, 10, None, sep, 1, 2, 0)
    assert s[0, 1].tolist() == [0, 4, 7, 8] + [-1] * 6 and c.tolist() == [[4, 4]], s
    # heavy excludes separators from its candidates
    sc = np.arange(10, dtype=np.float32)[None, None]
    s, c = kv_select([9], 10, 1, 10, sc, sep, 0, 1, 2)
    assert s[0, 0].tolist()[:6] == [0, 4, 6, 7, 8, -1], s
    # kv_gather
    cache = np.arange(12, dtype=np.float32).reshape(1, 1, 6, 2)
    (g,), p = kv_gather([[[4, -1, 7, 2]]], [[3]], [cache], "original")
    assert g[0, 0].tolist() == [[8, 9], [0, 0], [0, 0], [0, 0]] and p[0, 0].tolist() == [4, -1, -1, -1]
    (g,), p = kv_gather([[[4, 1, 5, 2]]], [[9]], [cache], "reindexed")
    assert p[0, 0].tolist() == [0, 1, 2, 3] and g[0, 0, 3].tolist() == [4, 5]
    (g,), p = kv_gather([[[4, 1, 5, 2]]], [[-3]], [cache], "reindexed")
    assert not g.any() and p[0, 0].tolist() == [-1] * 4
    # k_center: the docstring's example and ties
    x = np.array([[[1, 0], [0, 1], [-1, 0], [0, -1], [1, 1], [0.5, 0.2]]])
    i, n = k_center(x, 3, 3)
    assert i.tolist() == [[0, 1, 2]] and n.tolist() == [3], i
    i, n = k_center(x, 3, 4, [6], [2])
    assert i.tolist() == [[0, 1, 2, -1]], i  # 2 -> 0 (dist 2) -> 1 (tie with 3)
    i, n = k_center(x, 9, 6, [-1])
    assert n.tolist() == [0] and i.tolist() == [[-1] * 6]
    i, n = k_center(x, 0, 2)
    assert n.tolist() == [0]
    i, n = k_center(x, 2, 2, [3], [7])  # first clamped to 2
    assert i.tolist() == [[0, 2]], i
    z = np.zeros((1, 4, 3))
    i, n = k_center(z, 3, 3, None, [1])  # zero rows: all dist 1 -> lowest
    assert i.tolist() == [[0, 1, 2]], i
    xn = np.array([[[1, 0], [nan, 0], [0, 1], [-1, 0.1]]])
    i, n = k_center(xn, 3, 3)
    assert i.tolist() == [[0, 2, 3]], i  # NaN row never wins
    i, n = k_center(xn, 4, 4)
    assert i.tolist() == [[0, 1, 2, 3]], i
    # verify: near-tie tolerance
    y = np.array([[[1, 0], [0, 1], [0, -1 + 1e-9], [-1, 0]]], dtype=np.float64)
    ok, _, near = k_center_verify(y, 3, 3, None, None, [[0, 1, 3]], [3])
    assert ok
    ok, _, near = k_center_verify(y, 2, 2, None, None, [[0, 3]], [2])
    assert ok and near == 0
    ok, _, _ = k_center_verify(y, 2, 2, None, None, [[0, 1]], [2])
    assert not ok
    y2 = np.array([[[1, 0], [-1, 1e-4], [-1, -1e-4 * (1 + 1e-4)]]])
    ok, _, near = k_center_verify(y2, 2, 2, None, None, [[0, 1]], [2], tol=1e-6)
    assert ok and near == 1
    ok, _, near = k_center_verify(y2, 2, 2, None, None, [[0, 2]], [2], tol=1e-6)
    assert ok and near == 1
    ok, _, _ = k_center_verify(y2, 2, 2, None, None, [[0, 2]], [2], tol=0.0)
    assert not ok


if __name__ == "__main__":
    _self_test()
    print("kv_oracle self-test passed")

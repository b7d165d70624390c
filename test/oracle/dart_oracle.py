"""Independent NumPy reference for tok.dart_select (DART, duplication-based
token selection).

Written from the op description in
dialects/include/winnow/Dialect/Tok/IR/DiversityOps.td (tok.dart_select) and
ops-reference §1.3(d) / §8, not from the compiler's lowering: plain
per-row Python in float64 that visibly follows the written rule.

  image tokens = valid tokens in span [start, end); text = the other valid ones
  image pivots = the `image_pivots` image tokens of largest key L1 norm
                 (larger first, ties to the lower index, NaN ranked with -inf)
  text pivots  = the same over the text tokens (`text_pivots` of them)
  M            = keep // (image_pivots + text_pivots)      (the attributes)
  pool         = image tokens that are not pivots
  for each pivot (image pivots by index, then text pivots by index):
      take the M pool tokens least cosine-similar to the pivot's hidden state
      (ties to the lower index, NaN similarity = most similar, taken last),
      cosine with max(||x||, 1e-12) normalisation (a zero row has similarity
      0); an empty pool ends the sweep
  kept = text U image pivots U taken, ascending; count = |kept|

  dart_select(keys, hidden, lengths, span, image_pivots, text_pivots, keep,
              capacity) -> (indices [B, C] int32, count [B] int32)
  dart_row(...) -> (kept list, ambiguous reasons): also reports where the
      float64 ranking has a near-tie (two different candidates whose L1 norms
      or similarities lie within a tolerance without being a deliberate exact
      tie) on a selection boundary, where fp32 may resolve either way.
      Deliberate exact ties -- identical key rows (L1), identical hidden rows,
      similarities that are exactly 0 because every product term is 0 (zero
      rows, a zero pivot, disjoint supports), both NaN -- follow the
      lower-index rule and must match exactly.
  dart_verify(...) -> (ok, detail, exact_rows, resolved_rows, skipped_rows):
      the count is always exact (it does not depend on which tokens win a
      tie); the index list is compared exactly on every row without a
      near-tie. A row with near-ties is replayed with every near-tie resolved
      towards Winnow's kept set (any resolution is acceptable there); if the
      replay reproduces Winnow's list exactly the row is "resolved", otherwise
      it is checked only structurally (ascending, unique, valid, all text
      tokens, -1 padding) and counted as skipped.

Values are logical (bf16/f16 inputs already decoded to float32 values).
Needs only NumPy; run with Debian's /usr/bin/python3.
"""

import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chunk_oracle import valid_length  # noqa: E402
from kv_oracle import NORM_FLOOR  # noqa: E402

SIM_TIE_TOL = 1e-6   # near-tie margin of fp32 cosine similarities (small D)
L1_TIE_RTOL = 1e-6   # relative near-tie margin of fp32 key L1 norms (small D)


def tolerances(dk, d):
    """(sim tol, L1 relative tol) for key width dk and hidden width d."""
    return (1e-5 if d > 256 else SIM_TIE_TOL), (1e-5 if dk > 256 else L1_TIE_RTOL)


def per_pivot(image_pivots, text_pivots, keep):
    p = image_pivots + text_pivots
    return keep // p if p > 0 else 0


def min_capacity(L, span, image_pivots, text_pivots, keep):
    """The capacity bound of the op description:
    (L - |span|) + min(|span|, image_pivots + M * (image_pivots + text_pivots))."""
    s = span[1] - span[0]
    M = per_pivot(image_pivots, text_pivots, keep)
    return (L - s) + min(s, image_pivots + M * (image_pivots + text_pivots))


def _l1(row):
    with np.errstate(invalid="ignore", over="ignore"):
        return float(np.sum(np.abs(np.asarray(row, np.float64))))


def _rank_desc(v):
    """L1 norm -> ranking key of 'larger first', NaN with -inf."""
    return math.inf if math.isnan(v) else -v


def _resolve(order, k, near, guide):
    """Near-tie resolution guided by Winnow's kept set: `order` is the strict
    ranking, the first k are taken; `near` the (taken, not taken) pairs that
    are near-tied. The tokens of those pairs form a band whose taken slots go
    to band members in `guide` first (in ranking order), then to the others."""
    band = sorted({i for i, _ in near} | {j for _, j in near}, key=order.index)
    slots = sum(1 for t in band if order.index(t) < k)
    pick = [t for t in band if t in guide][:slots]
    pick += [t for t in band if t not in guide][:slots - len(pick)]
    keep = set(pick) | {t for t in order[:k] if t not in set(band)}
    return [t for t in order if t in keep]


def _pick_pivots(cands, keys_b, k, rtol, guide=None):
    """The k candidates of largest L1 norm; (picked list, ambiguity or None)."""
    if k <= 0 or not cands:
        return [], None
    l1 = {t: _l1(keys_b[t]) for t in cands}
    order = sorted(cands, key=lambda t: (_rank_desc(l1[t]), t))
    picked, rest = order[:k], order[k:]
    near = []
    for i in picked:
        for j in rest:
            a, b = l1[i], l1[j]
            if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
                continue  # NaN / inf rank exactly in fp32 too
            if abs(a - b) <= rtol * max(abs(a), abs(b)):
                if np.array_equal(np.abs(keys_b[i]), np.abs(keys_b[j])):
                    continue  # deliberate tie: identical |key| rows
                near.append((i, j))
    if not near:
        return picked, None
    why = "pivot L1 near-tie %d:%.9g vs %d:%.9g" % (near[0][0], l1[near[0][0]], near[0][1],
                                                    l1[near[0][1]])
    if guide is not None:
        picked = _resolve(order, k, near, guide)
    return picked, why


def _normalised(x):
    x = np.asarray(x, np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        return x / max(float(np.sqrt(np.sum(x * x))), NORM_FLOOR) \
            if not np.isnan(x).any() else np.full_like(x, np.nan)


def _sim(xn, pn):
    with np.errstate(invalid="ignore", over="ignore"):
        return float(np.dot(xn, pn))


def _structural_zero(x, p):
    """True when every product term x_k * p_k is exactly 0 (any precision)."""
    with np.errstate(invalid="ignore"):
        return not np.isnan(x).any() and not np.isnan(p).any() and not np.any(x * p)


def _sweep(pivot, pool, hidden_b, M, tol, guide=None):
    """The M pool tokens least similar to `pivot`; (taken, ambiguity or None)."""
    p = np.asarray(hidden_b[pivot], np.float64)
    pn = _normalised(p)
    sims = {t: _sim(_normalised(hidden_b[t]), pn) for t in pool}
    order = sorted(pool, key=lambda t: (math.inf if math.isnan(sims[t]) else sims[t], t))
    taken, rest = order[:M], order[M:]
    near = []
    for i in taken:
        for j in rest:
            a, b = sims[i], sims[j]
            if math.isnan(a) or math.isnan(b):
                continue
            if abs(a - b) <= tol:
                xi = np.asarray(hidden_b[i], np.float64)
                xj = np.asarray(hidden_b[j], np.float64)
                if np.array_equal(xi, xj):
                    continue  # identical hidden rows: identical fp32 similarity
                if _structural_zero(xi, p) and _structural_zero(xj, p):
                    continue  # both exactly 0 in any precision
                near.append((i, j))
    if not near:
        return taken, None
    i, j = near[0]
    why = "pivot %d: similarity near-tie %d:%.9g vs %d:%.9g" % (pivot, i, sims[i], j, sims[j])
    if guide is not None:
        taken = _resolve(order, M, near, guide)
    return taken, why


def dart_row(keys_b, hidden_b, n, span, image_pivots, text_pivots, keep,
             sim_tol=SIM_TIE_TOL, l1_rtol=L1_TIE_RTOL, guide=None):
    """(kept ascending list, [ambiguity reasons]) of one batch row. With
    `guide` (a set of token indices), every near-tie is resolved towards it."""
    L = keys_b.shape[0]
    start, end = span
    image = [t for t in range(start, min(end, n))]
    text = [t for t in range(n) if not (start <= t < end)]
    assert n <= L
    reasons = []
    ipiv, why = _pick_pivots(image, keys_b, image_pivots, l1_rtol, guide)
    if why:
        reasons.append("image " + why)
    tpiv, why = _pick_pivots(text, keys_b, text_pivots, l1_rtol, guide)
    if why:
        reasons.append("text " + why)
    M = per_pivot(image_pivots, text_pivots, keep)
    pool = [t for t in image if t not in set(ipiv)]
    taken = []
    for pv in sorted(ipiv) + sorted(tpiv):
        if not pool:
            break  # an empty pool ends the sweep early
        got, why = _sweep(pv, pool, hidden_b, M, sim_tol, guide)
        if why:
            reasons.append(why)
        taken += got
        gs = set(got)
        pool = [t for t in pool if t not in gs]
    kept = sorted(set(text) | set(ipiv) | set(taken))
    return kept, reasons


def dart_select(keys, hidden, lengths, span, image_pivots, text_pivots, keep,
                capacity, sim_tol=SIM_TIE_TOL, l1_rtol=L1_TIE_RTOL, with_reasons=False):
    """Reference for tok.dart_select: (indices [B, C] int32, count [B] int32)."""
    keys = np.asarray(keys, np.float64)
    hidden = np.asarray(hidden, np.float64)
    B, L = keys.shape[:2]
    assert hidden.shape[:2] == (B, L)
    idx = np.full((B, capacity), -1, np.int32)
    cnt = np.zeros((B,), np.int32)
    reasons = []
    for b in range(B):
        n = valid_length(lengths, b, L)
        kept, why = dart_row(keys[b], hidden[b], n, span, image_pivots, text_pivots,
                             keep, sim_tol, l1_rtol)
        if len(kept) > capacity:
            raise AssertionError("oracle: row %d keeps %d > capacity %d" % (b, len(kept), capacity))
        idx[b, :len(kept)] = kept
        cnt[b] = len(kept)
        reasons.append(why)
    return (idx, cnt, reasons) if with_reasons else (idx, cnt)


def dart_verify(keys, hidden, lengths, span, image_pivots, text_pivots, keep,
                got_idx, got_cnt, sim_tol=SIM_TIE_TOL, l1_rtol=L1_TIE_RTOL):
    """(ok, detail, exact_rows, resolved_rows, skipped_rows) -- see the module
    docstring."""
    got_idx = np.asarray(got_idx).astype(np.int64)
    got_cnt = np.asarray(got_cnt).astype(np.int64)
    B, C = got_idx.shape
    L = np.asarray(keys).shape[1]
    exp_idx, exp_cnt, reasons = dart_select(keys, hidden, lengths, span, image_pivots,
                                            text_pivots, keep, C, sim_tol, l1_rtol, True)
    if not np.array_equal(exp_cnt, got_cnt):
        return False, "count: expected %s, got %s" % (exp_cnt.tolist(), got_cnt.tolist()), 0, 0, 0
    exact = skipped = resolved = 0
    for b in range(B):
        c = int(exp_cnt[b])
        row = got_idx[b]
        if not reasons[b]:
            if not np.array_equal(row, exp_idx[b]):
                bad = int(np.argmax(row != exp_idx[b]))
                return False, ("batch %d: first difference at %d\n      expected %s\n"
                               "      got      %s") % (b, bad, exp_idx[b].tolist()[:48],
                                                      row.tolist()[:48]), exact, resolved, skipped
            exact += 1
            continue
        n = valid_length(lengths, b, L)
        kb = np.asarray(keys, np.float64)[b]
        hb = np.asarray(hidden, np.float64)[b]
        guided, _ = dart_row(kb, hb, n, span, image_pivots, text_pivots, keep, sim_tol,
                             l1_rtol, set(row[:c].tolist()))
        if row[:c].tolist() == guided and np.all(row[c:] == -1):
            resolved += 1  # every near-tie resolved one way, the rest exact
            continue
        skipped += 1
        got = row[:c].tolist()
        text = [t for t in range(n) if not (span[0] <= t < span[1])]
        if np.any(row[c:] != -1):
            return False, "batch %d: padding past count is not -1: %s" % (b, row.tolist()[:48]), \
                exact, resolved, skipped
        if got != sorted(set(got)) or any(not (0 <= g < n) for g in got):
            return False, "batch %d: indices not ascending/unique/valid: %s" % (b, got[:48]), \
                exact, resolved, skipped
        if not set(text) <= set(got):
            return False, "batch %d: text tokens missing: %s" % (
                b, sorted(set(text) - set(got))[:20]), exact, resolved, skipped
    return True, "", exact, resolved, skipped


# ---------------------------------------------------------------------------
# Self-check of the reference against hand-computed expectations.
# ---------------------------------------------------------------------------


def _self_test():
    nan = float("nan")
    keys = np.array([[[1, 0], [3, 0], [1, 0], [5, 5], [1, 1], [0, 1], [2, 0], [1, 0]]], float)
    hid = np.array([[[1, 0], [0, 1], [1, 0], [1, 1], [1, 0.1], [0, 1], [-1, 0], [1, 0.2]]])
    # The working example: pivots 3 (image) and 1 (text), M = 1: 3 takes 6, 1 takes 2.
    i, c = dart_select(keys, hid, None, (2, 8), 1, 1, 2, 8)
    assert i.tolist() == [[0, 1, 2, 3, 6, -1, -1, -1]] and c.tolist() == [5], i
    assert min_capacity(8, (2, 8), 1, 1, 2) == 2 + 3
    # keep = 0 / M = 0: text + image pivots only
    i, c = dart_select(keys, hid, None, (2, 8), 1, 1, 1, 5)
    assert i[0].tolist() == [0, 1, 3, -1, -1] and c[0] == 3, i
    # pool runs empty: keep 100 -> M = 50, image pivot 3 takes the whole pool
    i, c = dart_select(keys, hid, None, (2, 8), 1, 1, 100, 8)
    assert c[0] == 8
    # span empty: everything is text; span everything: no text pivots
    i, c = dart_select(keys, hid, None, (4, 4), 2, 2, 8, 8)
    assert c[0] == 8
    i, c = dart_select(keys, hid, None, (0, 8), 1, 3, 4, 8)  # M = 1, only pivot 3 sweeps
    assert i[0].tolist()[:2] == [3, 6] and c[0] == 2, i
    # lengths: 0 keeps nothing, 3 keeps the text tokens and pivot 2 (the only image token)
    i, c = dart_select(np.repeat(keys, 3, 0), np.repeat(hid, 3, 0), [0, 3, -5],
                       (2, 8), 1, 1, 2, 8)
    assert c.tolist() == [0, 3, 0] and i[1].tolist()[:3] == [0, 1, 2], i
    # ties: equal L1 -> lower index pivot; zero pivot -> all similarities 0 -> lowest
    k2 = np.array([[[1, 1], [1, -1], [-1, 1], [1, 0], [0, 1], [1, 0]]], float)
    h2 = np.array([[[0, 0], [1, 0], [2, 0], [1, 0], [0, 1], [1, 0]]], float)
    i, c, r = dart_select(k2, h2, None, (0, 6), 1, 0, 2, 6, with_reasons=True)
    assert i[0].tolist()[:3] == [0, 1, 2] and not r[0], (i, r)   # |k| equal: pivot 0 (zero row)
    # NaN similarity is taken last; NaN key ranks with -inf
    k3 = np.array([[[nan, 9], [1, 0], [2, 0], [1, 0]]], float)
    h3 = np.array([[[nan, 0], [1, 0], [1, 0], [-1, 0.5]]], float)
    i, c = dart_select(k3, h3, None, (0, 4), 1, 0, 1, 4)
    assert i[0].tolist() == [2, 3, -1, -1], i  # pivot 2 (L1 2; NaN L1 last)
    i, c = dart_select(k3, h3, None, (0, 4), 1, 0, 2, 4)
    assert i[0].tolist() == [1, 2, 3, -1], i   # the NaN similarity (row 0) is taken last
    i, c = dart_select(k3, h3, None, (0, 4), 1, 0, 3, 4)
    assert c[0] == 4
    # NaN pivot hidden: every similarity NaN -> lowest index first
    i, c = dart_select(k3, h3[:, [2, 1, 0, 3]], None, (0, 4), 1, 0, 1, 4)
    assert i[0].tolist()[:2] == [0, 2], i
    # verify: a near-tie row is compared structurally only
    k4 = np.array([[[1, 0], [5, 0], [0, 1], [0, 0.5]]], float)
    h4 = np.array([[[1, 0], [1, 0], [1, 1e-4], [1, -1e-4 * (1 + 1e-4)]]], float)
    i, c = dart_select(k4, h4, None, (1, 4), 1, 0, 1, 4)
    assert i[0].tolist() == [0, 1, 3, -1], i
    for got, want in (([0, 1, 3, -1], True), ([0, 1, 2, -1], True), ([1, 2, 3, -1], False)):
        ok, _, ex, rs, sk = dart_verify(k4, h4, None, (1, 4), 1, 0, 1, [got], [3])
        assert ok == want and rs + sk == 1 and ex == 0, (got, ok, ex, rs, sk)
        assert rs == want, (got, rs)  # the guided replay reproduces both answers
    ok, _, ex, rs, sk = dart_verify(k4, h4, None, (1, 4), 1, 0, 1, [[0, 1, 2, -1]], [3], sim_tol=0)
    assert not ok


if __name__ == "__main__":
    _self_test()
    print("dart_oracle self-test passed")

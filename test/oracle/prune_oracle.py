"""Independent NumPy reference for Winnow's pruning ops.

Written from the op descriptions in
dialects/include/winnow/Dialect/Tok/IR/PruneOps.td and TokAttrs.td and from
ops-reference §0.2, §0.3, §1.1 and §8 ("Pruning", "FastV"). It deliberately
does not follow the compiler's lowering: everything here is the plainest
loop-over-rows code that visibly matches the written semantics, computed in
float64 (scores) or Python integers (counts, indices).

  attn_score(q, k, lengths, lse, query_positions, scale, reduction) -> [B, N] float64
  select(scores, budget, capacity, lengths, protect, span, nan_policy)
      -> (indices [B, C] int32, count [B] int32)
  compact(indices, count, sources, token_axes) -> ([gathered...], old_to_new [B, N] int32)

Budgets are tuples:
  ("top_k", k)
  ("keep_ratio", ratio, rounding)   rounding in floor|ceil|half_even|half_away
  ("threshold", tau, comparison)    comparison in gt|ge

Plus bf16 helpers (round to nearest even) used to build exact inputs.
Needs only NumPy; run with Debian's /usr/bin/python3.
"""

import math

import numpy as np

# ---------------------------------------------------------------------------
# bf16 helpers
# ---------------------------------------------------------------------------


def f32_to_bf16_bits(x):
    """Round float32 values to bf16, round-to-nearest-even; returns uint16 bits.

    NaN stays NaN (quietened, sign kept); +-inf stay inf; values that round
    past the largest bf16 become inf, as RNE demands.
    """
    a = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
    u = a.view(np.uint32).astype(np.uint64)
    lsb = (u >> np.uint64(16)) & np.uint64(1)
    rounded = ((u + np.uint64(0x7FFF) + lsb) >> np.uint64(16)) & np.uint64(0xFFFF)
    nan_bits = ((u >> np.uint64(16)) | np.uint64(0x0040)) & np.uint64(0xFFFF)
    out = np.where(np.isnan(a), nan_bits, rounded)
    return out.astype(np.uint16)


def bf16_bits_to_f32(bits):
    """Widen bf16 bits (uint16) to float32 exactly."""
    b = np.ascontiguousarray(np.asarray(bits, dtype=np.uint16))
    return (b.astype(np.uint32) << np.uint32(16)).view(np.float32)


def round_to_bf16(x):
    """float32 values rounded to the nearest bf16 value (returned as float32)."""
    return bf16_bits_to_f32(f32_to_bf16_bits(x))


# ---------------------------------------------------------------------------
# tok.attn_score
# ---------------------------------------------------------------------------


def attn_score(q, k, lengths=None, lse=None, query_positions=None, scale=None,
               reduction="mean"):
    """Reference for tok.attn_score, in float64.

    q: [B, H, Q, d], k: [B, Hkv, N, d] (values already in their storage
    precision, e.g. bf16-rounded), lengths: [B] or None, lse: [B, H, Q] or
    None, query_positions: [B, Q] or None. `scale` is the value of the f32
    attribute (None -> 1/sqrt(d)).
    """
    q = np.asarray(q, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    B, H, Q, d = q.shape
    Bk, Hkv, N, dk = k.shape
    assert Bk == B and dk == d and H % Hkv == 0
    group = H // Hkv
    if scale is None:
        scale = 1.0 / math.sqrt(d)
    else:
        scale = float(np.float32(scale))  # the attribute is an f32
    out = np.zeros((B, N), dtype=np.float64)
    for b in range(B):
        length = N if lengths is None else int(lengths[b])
        for h in range(H):
            kh = h // group
            for qi in range(Q):
                valid = np.array([j < length for j in range(N)], dtype=bool)
                if query_positions is not None:
                    qp = int(query_positions[b, qi])
                    valid &= np.array([j <= qp for j in range(N)], dtype=bool)
                if not valid.any():
                    continue  # a row with no valid key contributes 0
                s = scale * (k[b, kh] @ q[b, h, qi])  # [N]
                p = np.zeros(N, dtype=np.float64)
                if lse is not None:
                    p[valid] = np.exp(s[valid] - float(lse[b, h, qi]))
                else:
                    m = s[valid].max()
                    e = np.exp(s[valid] - m)
                    p[valid] = e / e.sum()
                out[b] += p
    if reduction == "mean":
        out /= H * Q
    else:
        assert reduction == "sum", reduction
    return out


# ---------------------------------------------------------------------------
# tok.select
# ---------------------------------------------------------------------------


def _rank_value(x, nan_policy):
    """The value a score is ranked / compared by (a Python float)."""
    v = float(x)
    if math.isnan(v):
        if nan_policy == "as_neg_inf":
            return -math.inf
        assert nan_policy == "as_pos_inf", nan_policy
        return math.inf
    if v == 0.0:
        return 0.0  # -0.0 == +0.0
    return v


def round_count(x, rounding):
    """Round a non-negative double keep count to an integer."""
    assert x >= 0.0
    f = math.floor(x)
    frac = x - f  # exact for doubles
    if rounding == "floor":
        return int(f)
    if rounding == "ceil":
        return int(math.ceil(x))
    if rounding == "half_even":
        if frac > 0.5:
            return int(f) + 1
        if frac < 0.5:
            return int(f)
        return int(f) if int(f) % 2 == 0 else int(f) + 1
    if rounding == "half_away":
        return int(f) + 1 if frac >= 0.5 else int(f)
    raise ValueError(rounding)


def budget_count(budget, n_cand):
    """K_b for the top_k / keep_ratio budgets given |cand_b|."""
    kind = budget[0]
    if kind == "top_k":
        k = int(budget[1])
    elif kind == "keep_ratio":
        ratio, rounding = float(budget[1]), budget[2]
        k = round_count(float(n_cand) * ratio, rounding)  # IEEE double
    else:
        raise ValueError(kind)
    return min(max(k, 0), n_cand)


def max_kept_count(n, budget, span=None, has_protect=False):
    """The smallest capacity the verifier accepts (PruneOps.td)."""
    if has_protect or budget[0] == "threshold":
        return n
    start, end = span if span is not None else (0, n)
    width = end - start
    return (n - width) + budget_count(budget, width)


def row_budget_of(budget, own):
    """Request b's budget under a row_budget: its own keep count (i32) or
    ratio (f32), bounded by the attribute's (a negative or NaN ratio keeps
    nothing)."""
    if budget[0] == "top_k":
        return ("top_k", min(max(int(own), 0), max(int(budget[1]), 0)))
    assert budget[0] == "keep_ratio", budget
    r = float(np.float32(own))
    r = min(r, float(budget[1])) if r > 0 else 0.0
    return ("keep_ratio", r, budget[2])


def select(scores, budget, capacity, lengths=None, protect=None, span=None,
           nan_policy="as_neg_inf", row_budget=None):
    """Reference for tok.select. Returns (indices [B, C] int32, count [B] int32).
    row_budget: per-request keep counts / ratios (the op's operand)."""
    scores = np.asarray(scores, dtype=np.float32)
    B, N = scores.shape
    start, end = span if span is not None else (0, N)
    indices = np.full((B, capacity), -1, dtype=np.int32)
    count = np.zeros((B,), dtype=np.int32)
    for b in range(B):
        length = N if lengths is None else min(max(int(lengths[b]), 0), N)
        valid = list(range(length))
        cand = [i for i in valid
                if start <= i < end and not (protect is not None and bool(protect[b, i]))]
        cand_set = set(cand)
        passthrough = [i for i in valid if i not in cand_set]
        value = {i: _rank_value(scores[b, i], nan_policy) for i in cand}
        if budget[0] == "threshold":
            tau = _rank_value(np.float32(budget[1]), "as_neg_inf")  # tau rounded to f32
            if budget[2] == "gt":
                chosen = [i for i in cand if value[i] > tau]
            else:
                assert budget[2] == "ge", budget
                chosen = [i for i in cand if value[i] >= tau]
        else:
            own = budget if row_budget is None else row_budget_of(budget, row_budget[b])
            k = budget_count(own, len(cand))
            # Larger score first, ties to the lower index.
            ranked = sorted(cand, key=lambda i: (-value[i], i))
            chosen = ranked[:k]
        kept = sorted(passthrough + chosen)
        if len(kept) > capacity:
            raise AssertionError(
                "oracle: batch %d keeps %d > capacity %d" % (b, len(kept), capacity))
        indices[b, :len(kept)] = kept
        count[b] = len(kept)
    return indices, count


# ---------------------------------------------------------------------------
# tok.compact
# ---------------------------------------------------------------------------


def padding_value(dtype):
    """-1 for integer sources, 0 for floating-point sources and i1 masks."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return False
    if np.issubdtype(dtype, np.integer):
        return -1
    return 0


def compact(indices, count, sources, token_axes=None):
    """Reference for tok.compact.

    sources: list of arrays; source s has its token axis at token_axes[s]
    (default 1) and its batch axis just before it. Floating sources may be
    passed as raw bit arrays (e.g. bf16 as uint16) only if the caller
    handles the padding value; here the padding is chosen from the dtype, so
    pass bf16 as float32 values (padding 0.0) and compare bits afterwards.
    Returns ([gathered per source], old_to_new [B, N] int32).
    """
    indices = np.asarray(indices)
    count = np.asarray(count)
    B, C = indices.shape
    if token_axes is None:
        token_axes = [1] * len(sources)
    N = None
    outs = []
    for src, axis in zip(sources, token_axes):
        src = np.asarray(src)
        assert axis >= 1 and src.shape[axis - 1] == B
        if N is None:
            N = src.shape[axis]
        assert src.shape[axis] == N
        out_shape = list(src.shape)
        out_shape[axis] = C
        out = np.full(out_shape, padding_value(src.dtype), dtype=src.dtype)
        lead = (slice(None),) * (axis - 1)
        for b in range(B):
            n_b = min(max(int(count[b]), 0), C)
            for j in range(n_b):
                i = int(indices[b, j])
                if 0 <= i < N:
                    out[lead + (b, j)] = src[lead + (b, i)]
        outs.append(out)
    old_to_new = np.full((B, N), -1, dtype=np.int32)
    for b in range(B):
        n_b = min(max(int(count[b]), 0), C)
        for j in range(n_b):  # later j overwrite earlier: "the last j"
            i = int(indices[b, j])
            if 0 <= i < N:
                old_to_new[b, i] = j
    return outs, old_to_new


# ---------------------------------------------------------------------------
# Self-check of the reference against hand-computed expectations.
# ---------------------------------------------------------------------------


def _self_test():
    # bf16 RNE
    x = np.array([1.0, 1.00390625, 1.01171875, 1.0078125, -0.0, np.inf,
                  np.uint32(0x7F7F8000).view(np.float32), np.nan], dtype=np.float32)
    bits = f32_to_bf16_bits(x)
    assert bits[0] == 0x3F80
    assert bits[1] == 0x3F80  # halfway 1 + 2^-8 -> even (down)
    assert bits[2] == 0x3F82  # halfway 1 + 3*2^-8 -> even (up)
    assert bits[3] == 0x3F81
    assert bits[4] == 0x8000
    assert bits[5] == 0x7F80
    assert bits[6] == 0x7F80  # rounds past max finite -> inf
    assert np.isnan(bf16_bits_to_f32(bits[7:8]))[0]
    # rounding
    assert [round_count(v, "half_even") for v in (2.5, 3.5, 3.0, 0.5)] == [2, 4, 3, 0]
    assert [round_count(v, "half_away") for v in (2.5, 3.5, 3.0, 0.49999999999999994)] == [3, 4, 3, 0]
    assert round_count(50 * 0.14, "ceil") == 8  # 7.000000000000001
    # select: ties to lower index, -0 == +0, NaN policies
    s = np.array([[0.0, -0.0, 1.0, np.nan, 1.0, -np.inf]], dtype=np.float32)
    idx, n = select(s, ("top_k", 2), 6)
    assert idx[0, :2].tolist() == [2, 4] and n[0] == 2
    idx, n = select(s, ("top_k", 3), 6)
    assert idx[0, :3].tolist() == [0, 2, 4]
    idx, n = select(s, ("top_k", 5), 6)  # NaN ranks with -inf, by index: 3 before 5
    assert idx[0, :5].tolist() == [0, 1, 2, 3, 4]
    idx, n = select(s, ("top_k", 1), 6, nan_policy="as_pos_inf")
    assert idx[0, :1].tolist() == [3]
    idx, n = select(s, ("threshold", -0.0, "ge"), 6)
    assert idx[0, :n[0]].tolist() == [0, 1, 2, 4]
    idx, n = select(s, ("top_k", 1), 6, lengths=[4], protect=np.array([[1, 0, 0, 0, 0, 1]]),
                    span=(0, 5))
    assert idx[0, :n[0]].tolist() == [0, 2], idx  # protected padding (5) not kept
    # compact
    outs, m = compact(np.array([[2, 2, 9, -1]]), np.array([5]),
                      [np.arange(4, dtype=np.int32).reshape(1, 4)])
    assert outs[0].tolist() == [[2, 2, -1, -1]] and m.tolist() == [[-1, -1, 1, -1]]


if __name__ == "__main__":
    _self_test()
    print("prune_oracle self-test passed")

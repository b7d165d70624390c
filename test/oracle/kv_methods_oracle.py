"""Independent NumPy reference for three KV-selection methods, written from
the papers' equations (not from the recipes or the tok op descriptions):

  * TokenSelect -- "TokenSelect: Efficient Long-Context Inference and Length
    Extrapolation for LLMs via Dynamic Token-Level KV Cache Selection"
    (Wu et al.), the per-head criticality and head soft vote:
        c_h = softmax(q_h K_h^T / sqrt(d))        (per head, over the cache)
        S   = sum_h c_h                           (soft vote)
        I   = TopK(S, k)                          (shared by all heads)
    plus the initial tokens and the local window that are always attended.
  * Recycled Attention -- "Recycled Attention: Efficient inference for
    long-context language models" (Xu, Goyal, Choi): after a full-attention
    step with probabilities A_h = softmax(q_h K^T / sqrt(d)), the recycled
    cache of each KV head is TopK over j of the attention its query heads
    paid (summed over the heads of a grouped-query group).
  * DyCoke stage 2 -- "DyCoke: Dynamic Compression of Tokens for Fast Video
    Large Language Models" (Tao et al.), dynamic KV cache reduction: the
    current query's attention, averaged over heads, to the visual tokens;
    keep TopK of the visual tokens with K = int(N_v * (1 - ratio)) and every
    non-visual token; recomputed at every decoding step from the full cache.

Everything is float64 on the logical input values (bf16 inputs already
rounded to bf16). Top-k order is pinned the way every Winnow recipe pins it:
larger score first, equal scores to the lower index; kept lists ascending.

  tokenselect_scores(q, k, lengths, scale=None)       -> S [B, T]
  tokenselect_keep(S, lengths, n_init, n_local, k)    -> [kept list per b]
  recycled_scores(q, k, lengths, lse, scale=None)     -> A [B, Hkv, T]
  recycled_keep(A, lengths, K)                        -> [[kept list per g] per b]
  dycoke_scores(q, k, lengths, lse, scale=None)       -> a [B, T]
  dycoke_keep(a, lengths, span, keep)                 -> [kept list per b]
  row_lse(q, k, lengths, scale=None)                  -> lse [B, H, 1]
  pad_lists(lists, capacity)                          -> (ids [n, C], count [n])
  gather_original(slots, count, cache)                -> (rows, positions)
  topk_within(scores, cand, got, k, tol)              -> (ok, detail)

Needs only NumPy; run with Debian's /usr/bin/python3.
"""

import numpy as np


def _valid(lengths, b, T):
    return min(max(int(lengths[b]), 0), T)


def _logits(q, k, scale):
    """q [B, H, 1, d], k [B, Hkv, T, d] -> q_h . k_{h / (H / Hkv), j} * scale,
    [B, H, T] float64 (grouped-query attention: query head h reads KV head
    h // (H / Hkv))."""
    q = np.asarray(q, np.float64)
    k = np.asarray(k, np.float64)
    B, H, Q, d = q.shape
    assert Q == 1, "one decode query row"
    Hkv = k.shape[1]
    G = H // Hkv
    kh = np.repeat(k, G, axis=1)  # [B, H, T, d]
    if scale is None:
        scale = 1.0 / np.sqrt(d)
    return np.einsum("bhd,bhtd->bht", q[:, :, 0], kh) * scale


def _top(scores, cand, k):
    """The k best of the candidate indices (larger first, ties to the lower
    index), as a set."""
    ranked = sorted(cand, key=lambda j: (-float(scores[j]), j))
    return set(ranked[:max(k, 0)])


# ---------------------------------------------------------------------------
# TokenSelect
# ---------------------------------------------------------------------------


def tokenselect_scores(q, k, lengths, scale=None):
    """S[b, j] = sum_h softmax_j(q_h . k_j / sqrt(d)) over j < len_b."""
    s = _logits(q, k, scale)
    B, H, T = s.shape
    S = np.zeros((B, T))
    for b in range(B):
        n = _valid(lengths, b, T)
        if n == 0:
            continue
        x = s[b, :, :n]
        e = np.exp(x - x.max(axis=1, keepdims=True))
        S[b, :n] = (e / e.sum(axis=1, keepdims=True)).sum(axis=0)  # soft vote
    return S


def tokenselect_keep(S, lengths, n_init, n_local, k):
    """Initial tokens + local window + TopK(S) of the rest, per request."""
    B, T = S.shape
    out = []
    for b in range(B):
        n = _valid(lengths, b, T)
        fixed = set(range(min(n_init, n))) | set(range(max(n - n_local, 0), n))
        rest = [j for j in range(n) if j not in fixed]
        out.append(sorted(fixed | _top(S[b], rest, k)))
    return out


# ---------------------------------------------------------------------------
# Recycled Attention
# ---------------------------------------------------------------------------


def recycled_scores(q, k, lengths, lse, scale=None):
    """A[b, g, j] = sum over the query heads h of KV group g of
    exp(q_h . k_j / sqrt(d) - lse_h): the full step's attention probabilities
    (its softmax normaliser is exp(lse_h)); 0 past the length."""
    s = _logits(q, k, scale)
    B, H, T = s.shape
    Hkv = np.asarray(k).shape[1]
    G = H // Hkv
    p = np.exp(s - np.asarray(lse, np.float64)[:, :, :1])
    for b in range(B):
        p[b, :, _valid(lengths, b, T):] = 0.0
    return p.reshape(B, Hkv, G, T).sum(axis=2)


def recycled_keep(A, lengths, K):
    """TopK per KV head over the valid cache."""
    B, Hkv, T = A.shape
    return [[sorted(_top(A[b, g], range(_valid(lengths, b, T)), K)) for g in range(Hkv)]
            for b in range(B)]


# ---------------------------------------------------------------------------
# DyCoke stage 2
# ---------------------------------------------------------------------------


def dycoke_scores(q, k, lengths, lse, scale=None):
    """a[b, j] = mean_h exp(q_h . k_j / sqrt(d) - lse_h) (the current row's
    attention, whose softmax ran over the whole cache); 0 past the length."""
    s = _logits(q, k, scale)
    B, H, T = s.shape
    p = np.exp(s - np.asarray(lse, np.float64)[:, :, :1])
    for b in range(B):
        p[b, :, _valid(lengths, b, T):] = 0.0
    return p.mean(axis=1)


def dycoke_keep(a, lengths, span, keep):
    """Non-visual valid tokens + TopK(a) of the valid visual tokens."""
    B, T = a.shape
    lo, hi = span
    out = []
    for b in range(B):
        n = _valid(lengths, b, T)
        visual = [j for j in range(n) if lo <= j < hi]
        other = {j for j in range(n) if not lo <= j < hi}
        out.append(sorted(other | _top(a[b], visual, keep)))
    return out


# ---------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------


def row_lse(q, k, lengths, scale=None):
    """The log-sum-exp of each head's logits over the valid cache, [B, H, 1]
    (what the attention kernel of that step returns); 0 for length 0."""
    s = _logits(q, k, scale)
    B, H, T = s.shape
    lse = np.zeros((B, H, 1))
    for b in range(B):
        n = _valid(lengths, b, T)
        if n:
            x = s[b, :, :n]
            m = x.max(axis=1)
            lse[b, :, 0] = m + np.log(np.exp(x - m[:, None]).sum(axis=1))
    return lse


def pad_lists(lists, capacity):
    """A list of kept lists -> (ids [len, capacity] int32, -1 padded;
    count [len] int32)."""
    ids = np.full((len(lists), capacity), -1, np.int32)
    cnt = np.zeros(len(lists), np.int32)
    for i, kept in enumerate(lists):
        assert len(kept) <= capacity, (len(kept), capacity)
        ids[i, :len(kept)] = kept
        cnt[i] = len(kept)
    return ids, cnt


def gather_original(slots, count, cache):
    """rows[b, h, j] = cache[b, h, slots[b, h, j]] for j < count[b, h]
    (0 otherwise); positions = the slot (original position), -1 padded."""
    slots = np.asarray(slots)
    B, H, C = slots.shape
    cache = np.asarray(cache)
    rows = np.zeros((B, H, C) + cache.shape[3:], cache.dtype)
    pos = np.full((B, H, C), -1, np.int32)
    for b in range(B):
        for h in range(H):
            for j in range(min(max(int(count[b, h]), 0), C)):
                t = int(slots[b, h, j])
                if 0 <= t < cache.shape[2]:
                    rows[b, h, j] = cache[b, h, t]
                    pos[b, h, j] = t
    return rows, pos


def topk_within(scores, cand, got, k, tol):
    """Is `got` (the kept candidates) a top-k of `cand` by float64 `scores`
    up to `tol`? Exactly the lower-index top-k passes; otherwise every kept
    candidate must score at least every dropped one minus tol (a near-tie
    that fp32 scores may resolve either way)."""
    cand = list(cand)
    got = set(got) & set(cand)
    want = _top(scores, cand, k)
    if got == want:
        return True, ""
    if len(got) != len(want):
        return False, "kept %d candidates, expected %d" % (len(got), len(want))
    lo = min(float(scores[j]) for j in got)
    dropped = [j for j in cand if j not in got]
    hi = max(float(scores[j]) for j in dropped)
    if lo >= hi - tol * max(1.0, abs(hi)):
        return True, "near-tie (gap %.2e)" % (hi - lo)
    return False, "kept slot score %.9g < dropped %.9g (e.g. %s vs %s)" % (
        lo, hi, sorted(got - want)[:5], sorted(want - got)[:5])

"""Independent NumPy reference for the chunking METHODS (not the ops).

Written from the papers' equations, in their own convention (a boundary ENDS
its group, a null group is prepended to the shortened sequence), and never
from Winnow's segment rule or the recipes: the recipes start a segment AT a
boundary and must shift the mask to agree with this file.

Dynamic Token Pooling (Nawrot, Chorowski, Lancucki and Ponti, "Efficient
Transformers with Dynamic Token Pooling", ACL 2023), one shortening stage of
the hourglass:

  boundary predictor   p_t = sigmoid(MLP(h_t))            (given here)
  hard boundaries      b_t = [p_t > 0.5]                  (inference; training
                                                           samples Gumbel-sigmoid)
  group of token t     g(t) = sum_{s < t} b_s             (b_t = 1: t ends its group)
  pooling              s_k = mean { h_t : g(t) = k }      k = 0 .. K-1, K = sum_t b_t
  shortened input      [null, s_0, ..., s_{K-1}]
  upsampling           u_t = y_{c(t)} + h_t,  c(t) = sum_{s <= t} b_s
                       (y = the shortened model's output; y_0 = the null
                       group's: a token reads only groups that ended at or
                       before it, and the residual is the hourglass skip)

The trailing tokens after the last boundary (g(t) = K) form no complete
group; no u_t reads them. The recipes keep their mean as row K, which
`pool_groups` also returns (flagged), so that it can be checked too.

Byte-level inputs (DTP's "whitespaces" segmentation on raw bytes, with the
byte embedding of ByT5 / MonoByte): e_t = table[byte_t];
b_t = [byte_t is ASCII whitespace]; the same pooling and upsampling.

  hard_boundaries(p, lengths)            -> b [B, L] bool (padding False)
  whitespace_boundaries(ids, lengths)    -> b [B, L] bool
  embed(ids, table, lengths)             -> e [B, L, D] float64 (0 outside)
  pool_groups(h, b, lengths, capacity)   -> (groups [B, C, D] float64,
                                             count [B], complete [B],
                                             tol [B, C, D])
  upsample(y, b, lengths, residual[, dtype]) -> [B, L, D] (padding 0)

Lengths are clamped to [0, L] (the ragged-batch convention; the paper has
fixed-length rows). Needs only NumPy; run with Debian's /usr/bin/python3.
"""

import numpy as np

U32 = 2.0 ** -24  # unit roundoff of fp32

# ASCII whitespace: tab, LF, VT, FF, CR and space (what bytes.isspace() is).
WHITESPACE_BYTES = (9, 10, 11, 12, 13, 32)


def clamp_length(lengths, b, L):
    return min(max(int(lengths[b]), 0), L)


def hard_boundaries(p, lengths):
    """b_t = p_t > 0.5 on the valid prefix (0.5 itself is not a boundary)."""
    p = np.asarray(p, dtype=np.float64)
    B, L = p.shape
    b = np.zeros((B, L), dtype=bool)
    for r in range(B):
        n = clamp_length(lengths, r, L)
        b[r, :n] = p[r, :n] > 0.5
    return b


def whitespace_boundaries(ids, lengths):
    """b_t = byte_t is whitespace (it ends its word) on the valid prefix."""
    ids = np.asarray(ids, dtype=np.int64)
    B, L = ids.shape
    b = np.zeros((B, L), dtype=bool)
    for r in range(B):
        n = clamp_length(lengths, r, L)
        b[r, :n] = np.isin(ids[r, :n], WHITESPACE_BYTES)
    return b


def embed(ids, table, lengths):
    """e_t = table[byte_t] for valid t with 0 <= byte_t < 256, else 0."""
    ids = np.asarray(ids, dtype=np.int64)
    table = np.asarray(table, dtype=np.float64)
    B, L = ids.shape
    e = np.zeros((B, L, table.shape[1]), dtype=np.float64)
    for r in range(B):
        for t in range(clamp_length(lengths, r, L)):
            if 0 <= ids[r, t] < table.shape[0]:
                e[r, t] = table[ids[r, t]]
    return e


def group_of(brow, n):
    """g(t) = sum_{s < t} b_s for t < n (the paper's group index)."""
    g = np.zeros((n,), dtype=np.int64)
    total = 0
    for t in range(n):
        g[t] = total
        total += int(bool(brow[t]))
    return g


def pool_groups(h, b, lengths, capacity=None):
    """Mean of every group.

    Returns (groups [B, C, D], count [B], complete [B], tol [B, C, D]):
    groups[r, k] = s_k for k < complete[r] = K (the paper's groups) and, when
    tokens follow the last boundary, groups[r, K] = their mean (count = K + 1,
    otherwise count = K); rows past the count are 0. tol bounds an fp32 sum in
    any order (gamma_{m-1} * sum |h|) divided by m, plus the division's and
    the result's rounding.
    """
    h = np.asarray(h, dtype=np.float64)
    B, L, D = h.shape
    C = L if capacity is None else capacity
    groups = np.zeros((B, C, D), dtype=np.float64)
    tol = np.zeros((B, C, D), dtype=np.float64)
    count = np.zeros((B,), dtype=np.int32)
    complete = np.zeros((B,), dtype=np.int32)
    for r in range(B):
        n = clamp_length(lengths, r, L)
        g = group_of(b[r], n)
        complete[r] = int(np.count_nonzero(b[r, :n]))
        count[r] = int(g.max()) + 1 if n else 0
        for k in range(count[r]):
            members = h[r, :n][g == k]
            m = len(members)
            mean = members.sum(axis=0) / m
            groups[r, k] = mean
            gamma = (m - 1) * U32 / (1 - (m - 1) * U32)
            tol[r, k] = gamma * np.abs(members).sum(axis=0) / m + 2 * U32 * np.abs(mean)
    return groups, count, complete, tol


def upsample(y, b, lengths, residual, dtype=np.float64):
    """u_t = y[sum_{s <= t} b_s] + residual_t for valid t, else 0.

    The sum is formed in `dtype` (float32: one correctly rounded fp32
    addition, what an fp32 skip connection computes)."""
    y = np.asarray(y, dtype=dtype)
    res = np.asarray(residual, dtype=dtype)
    B, L = b.shape
    out = np.zeros(res.shape, dtype=dtype)
    for r in range(B):
        c = np.cumsum(np.asarray(b[r], dtype=np.int64))
        for t in range(clamp_length(lengths, r, L)):
            out[r, t] = y[r, c[t]] + res[r, t]
    return out


def rows_read(b, lengths):
    """For each row, the largest index of y that upsampling reads (-1: none)."""
    B, L = b.shape
    last = np.full((B,), -1, dtype=np.int64)
    for r in range(B):
        n = clamp_length(lengths, r, L)
        if n:
            last[r] = int(np.count_nonzero(b[r, :n]))
    return last

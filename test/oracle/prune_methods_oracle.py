"""Independent NumPy (float64) reference for three attention-ranked pruning
methods, written from the papers' definitions, not from the recipes in
examples/ (which compose tok ops and are checked against this file by
run_prune_methods.py):

  * FoPru, rank strategy -- "FoPru: Focal Pruning for Efficient Large
    Vision-Language Models" (Jiang et al., 2024): token significance is the
    attention a visual token receives in the vision encoder, the layer's
    attention map averaged over heads and over its rows; the rank strategy
    keeps the K most significant tokens and restores their original order.
  * Speculative Prefill -- "Speculative Prefill: Turbocharging TTFT with
    Lightweight and Training-Free Token Importance Estimation" (Liu, Chen,
    Zhang, ICML 2025): the speculator's attention from the look-ahead
    queries over the prompt, smoothed along the prompt, max over layers and
    heads, mean over the look-ahead steps; chunk selection keeps the best
    ceil(ratio * #chunks) chunks (chunk score = mean token importance); the
    kept tokens keep their original position ids.
  * PromptDistill -- "PromptDistill: Query-based Selective Token Retention in
    Intermediate Layers for Efficient Large Language Model Inference" (Jin et
    al., 2025): at the selection layer the query row's scaled dot products
    with the context keys, averaged over heads and smoothed (average pooling
    of width 5), rank the context; the top-K context tokens and every query
    token are retained with their original positions.

Everything here runs per prompt on the unpadded prefix (no batch padding, no
masks), in float64, with a stable ranking: larger first, equal scores to the
lower index (the deterministic tie rule the recipes document; the papers'
code uses torch.topk, whose tie order is unspecified).
"""

import math

import numpy as np


def softmax(x, axis=-1):
    x = np.asarray(x, np.float64)
    if x.shape[axis] == 0:
        return x
    m = np.max(x, axis=axis, keepdims=True)
    e = np.exp(x - m)
    return e / np.sum(e, axis=axis, keepdims=True)


def logsumexp(x, axis=-1):
    x = np.asarray(x, np.float64)
    m = np.max(x, axis=axis, keepdims=True)
    return (m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))).squeeze(axis)


def top_k_ascending(scores, k):
    """Indices of the k largest scores (ties to the lower index), ascending."""
    scores = np.asarray(scores, np.float64)
    k = max(0, min(int(k), scores.shape[0]))
    order = np.argsort(-scores, kind="stable")
    return np.sort(order[:k])


def avg_pool1d(x, kernel):
    """torch.nn.functional.avg_pool1d(x, kernel, stride=1, padding=kernel//2)
    with count_include_pad (the default): zero padding, divide by kernel."""
    x = np.asarray(x, np.float64)
    r = kernel // 2
    pad = np.concatenate([np.zeros(r), x, np.zeros(r)])
    return np.array([pad[j:j + kernel].sum() / kernel for j in range(x.shape[0])])


# ---------------------------------------------------------------------------
# FoPru
# ---------------------------------------------------------------------------


def fopru_significance(q, k_cls, k_patches, scale=None):
    """q: [H, M, d] the query rows of the layer; k_cls: [H, d]; k_patches:
    [H, N, d]. The attention map A^h = softmax(q k^T * scale) over all N + 1
    keys ([CLS] first); significance s_j = 1/(H M) sum_h sum_i A^h[i, 1 + j]
    (FoPru's column average of the head-averaged attention map)."""
    q = np.asarray(q, np.float64)
    H, M, d = q.shape
    if scale is None:
        scale = 1.0 / math.sqrt(d)
    keys = np.concatenate([np.asarray(k_cls, np.float64)[:, None, :],
                           np.asarray(k_patches, np.float64)], axis=1)
    a = softmax(np.einsum("hmd,hnd->hmn", q, keys) * scale, axis=-1)
    return a[:, :, 1:].sum(axis=(0, 1)) / (H * M)


def fopru_row_lse(q, k_cls, k_patches, scale=None):
    """The log-sum-exp of every row over the N + 1 keys ([H, M])."""
    q = np.asarray(q, np.float64)
    d = q.shape[-1]
    if scale is None:
        scale = 1.0 / math.sqrt(d)
    keys = np.concatenate([np.asarray(k_cls, np.float64)[:, None, :],
                           np.asarray(k_patches, np.float64)], axis=1)
    return logsumexp(np.einsum("hmd,hnd->hmn", q, keys) * scale, axis=-1)


def fopru_rank(significance, keep):
    """Rank strategy: the `keep` most significant tokens, in original order."""
    return top_k_ascending(significance, keep)


# ---------------------------------------------------------------------------
# Speculative Prefill
# ---------------------------------------------------------------------------


def specprefill_importance(q, k, length, group, pool_kernel, scale=None):
    """q: [Q, LH, d] look-ahead queries (step, layer-head); k: [LHkv, N, d]
    (query head i reads KV head i // group); length: the prompt length.
    A[i, s, :] = softmax over the prompt keys j < length; smoothed with
    avg_pool1d(pool_kernel); importance = mean over steps of the max over
    layer-heads. Returns [length]."""
    q = np.asarray(q, np.float64)
    k = np.asarray(k, np.float64)
    Q, LH, d = q.shape
    if scale is None:
        scale = 1.0 / math.sqrt(d)
    n = int(length)
    if n <= 0:
        return np.zeros(0)
    imp = np.zeros(n)
    for s in range(Q):
        best = np.full(n, -np.inf)
        for i in range(LH):
            a = softmax(k[i // group, :n] @ q[s, i] * scale)
            best = np.maximum(best, avg_pool1d(a, pool_kernel))
        imp += best
    return imp / Q


def specprefill_chunks(importance, chunk, ratio):
    """Chunk selection: chunks of `chunk` tokens (the last one shorter),
    chunk score = mean importance, keep ceil(#chunks * ratio) chunks.
    Returns (chunk_scores, kept_chunks ascending, kept_tokens ascending)."""
    n = len(importance)
    nch = (n + chunk - 1) // chunk
    cs = np.array([np.mean(importance[c * chunk:min(n, (c + 1) * chunk)]) for c in range(nch)])
    keep = math.ceil(nch * ratio)
    kc = top_k_ascending(cs, keep)
    toks = np.concatenate([np.arange(c * chunk, min(n, (c + 1) * chunk)) for c in kc]) \
        if len(kc) else np.zeros(0, np.int64)
    return cs, kc, np.sort(toks)


# ---------------------------------------------------------------------------
# PromptDistill
# ---------------------------------------------------------------------------


def promptdistill_scores(q, k, context_len, length, group, pool_kernel=5, scale=None):
    """q: [H, d] the selecting query row; k: [Hkv, N, d]. Head-averaged
    scaled dot products of the context tokens j < C = min(context_len,
    length), 0 elsewhere, smoothed by avg_pool1d(pool_kernel) over the
    prompt. Returns (pooled scores [length], C)."""
    q = np.asarray(q, np.float64)
    k = np.asarray(k, np.float64)
    H, d = q.shape
    if scale is None:
        scale = 1.0 / math.sqrt(d)
    n = max(0, int(length))
    c = max(0, min(int(context_len), n))
    s = np.zeros(n)
    if c:
        s[:c] = np.mean([k[h // group, :c] @ q[h] * scale for h in range(H)], axis=0)
    return avg_pool1d(s, pool_kernel), c


def promptdistill_keep(pooled, context, length, k):
    """top-k context tokens by the pooled score, plus every query token."""
    n = max(0, int(length))
    top = top_k_ascending(np.asarray(pooled)[:context], k)
    return np.sort(np.concatenate([top, np.arange(context, n)])).astype(np.int64)


def _self_test():
    assert list(top_k_ascending([1, 3, 3, 2, 3], 2)) == [1, 2]
    assert np.allclose(avg_pool1d([5, 0, 0, 0], 3), [5 / 3, 5 / 3, 0, 0])
    cs, kc, toks = specprefill_chunks(np.array([1., 1, 3, 3, 2]), 2, 0.34)
    assert list(kc) == [1, 2] and list(toks) == [2, 3, 4], (kc, toks)
    assert list(promptdistill_keep(np.array([1., 5, 5, 0, 9]), 3, 5, 1)) == [1, 3, 4]
    print("prune_methods_oracle self-test ok")


if __name__ == "__main__":
    _self_test()

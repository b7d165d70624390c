#!/usr/bin/python3
"""Independent NumPy reference for the clustering ops (ClusterOps.td):
tok.row_cosine, tok.density_peaks, tok.similarity_components.

Written from the op descriptions only. Everything is computed in float64;
Winnow computes in fp32, so the plan references also report where a float64
near-tie (within `rtol` relative, or `atol` absolute for cosines, but not an
exact tie) could legitimately flip the fp32 answer:

  * density_peaks: a near-tie of two densities is "ambiguous" only when
    swapping the two in the density order changes the plan; a near-tie of two
    center scores among the first count + 1 makes the row ambiguous; a
    near-tie of a token's two nearest centers leaves that token either
    cluster (reported per token, the rest of the row is still compared).
    kNN near-ties need no care: the mean of the k smallest distances does not
    depend on which of two tied neighbours is taken.
  * similarity_components: components of the edges certainly above the
    threshold and of the edges possibly above it; when the two partitions
    differ the row is ambiguous.

Exact ties (duplicate rows, all-equal rows, zero rows, exactly representable
rows) are exact in float64 and in fp32 and follow the index rules.

Run directly for a self-test against hand-computed expectations.
"""

import numpy as np

U32 = 2.0 ** -24
NORM_FLOOR = 1e-12


def valid_length(lengths, b, N):
    """Lengths clamp to [0, N]; none means every token is valid."""
    return N if lengths is None else min(max(int(lengths[b]), 0), N)


# ---------------------------------------------------------------------------
# tok.row_cosine
# ---------------------------------------------------------------------------


def _normalise(x):
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        nrm = np.sqrt(np.sum(x * x, axis=-1, keepdims=True))
        return x / np.maximum(nrm, NORM_FLOOR)  # np.maximum propagates NaN


def row_cosine(lhs, rhs):
    """<n(lhs), n(rhs)> over the last axis, n(x) = x / max(||x||, 1e-12)."""
    with np.errstate(invalid="ignore"):
        return np.sum(_normalise(lhs) * _normalise(rhs), axis=-1)


def row_cosine_atol(C):
    """1e-6 plus the fp32 error of two norms and a C-term dot product."""
    return 1e-6 + (2 * C + 8) * U32


# ---------------------------------------------------------------------------
# tok.density_peaks
# ---------------------------------------------------------------------------


def dpc_rtol(C, k, m_max=1.0):
    """Relative tolerance of fp32 distances / densities / scores."""
    return 1e-6 + 3 * (C + k + 8) * U32 * max(1.0, m_max)


def _near(a, b, rtol):
    return a != b and abs(a - b) <= rtol * max(abs(a), abs(b))


def _dpc_plan(D, rho, rank, clusters):
    """Plan from distances, densities and a density rank (0 = densest)."""
    n = D.shape[0]
    delta = np.zeros(n)
    for i in range(n):
        denser = [j for j in range(n) if rank[j] < rank[i]]
        delta[i] = D[i, denser].min() if denser else D[i].max()
    score = rho * delta
    m = min(clusters, n)
    order = sorted(range(n), key=lambda i: (-score[i], i))
    centers = order[:m]
    parent = np.zeros(n, np.int64)
    for i in range(n):
        if i in centers:
            parent[i] = centers.index(i)
        else:
            parent[i] = min(range(m), key=lambda c: (D[i, centers[c]], c))
    return parent, centers, score, order, delta


def density_peaks(x, lengths=None, k=5, clusters=8, rtol=None):
    """Reference for tok.density_peaks.

    x: [B, N, C] values (bf16/f16 decoded). Returns (parent [B, N] int32,
    count [B] int32, infos); infos[b] has 'ambiguous' (bool), 'why' (list),
    'alt' ({token: set of allowed clusters} for nearest-center near-ties).
    """
    x = np.asarray(x, dtype=np.float64)
    B, N, C = x.shape
    parent = np.full((B, N), -1, np.int32)
    count = np.zeros((B,), np.int32)
    infos = []
    for b in range(B):
        n = valid_length(lengths, b, N)
        info = {"ambiguous": False, "why": [], "alt": {}}
        infos.append(info)
        if n == 0:
            continue
        X = x[b, :n]
        diff = X[:, None, :] - X[None, :, :]
        D2 = np.sum(diff * diff, axis=2) / C
        D = np.sqrt(D2)
        kk = min(k, n)
        mean = np.zeros(n)
        for i in range(n):
            nearest = sorted(range(n), key=lambda j: (D[i, j], j))[:kk]
            mean[i] = np.mean(D[i, nearest] ** 2)
        rho = np.exp(-mean)
        # Relative error of rho_i ~ m_i * fp32 error of the distances; of a
        # score, that plus the distance's own; of a distance, the distance's.
        def tol(i, j, base=1.0):
            if rtol is not None:
                return rtol
            return dpc_rtol(C, k, max(base, float(mean[i]), float(mean[j])))
        dorder = sorted(range(n), key=lambda i: (-rho[i], i))
        rank = np.empty(n, np.int64)
        rank[dorder] = np.arange(n)
        p, centers, score, sorder, _ = _dpc_plan(D, rho, rank, clusters)
        m = len(centers)
        parent[b, :n] = p
        count[b] = m
        # Density near-ties that change the plan when swapped.
        for a in range(n - 1):
            i, j = dorder[a], dorder[a + 1]
            if _near(rho[i], rho[j], tol(i, j, 0.0)):
                r2 = rank.copy()
                r2[i], r2[j] = rank[j], rank[i]
                p2, c2, _, _, _ = _dpc_plan(D, rho, r2, clusters)
                if c2 != centers or not np.array_equal(p2, p):
                    info["ambiguous"] = True
                    info["why"].append("density near-tie of tokens %d, %d (%.9g vs %.9g)"
                                       % (i, j, rho[i], rho[j]))
        # Score near-ties that decide which / in which order centers are.
        for a in range(min(m + 1, n) - 1):
            i, j = sorder[a], sorder[a + 1]
            if _near(score[i], score[j], tol(i, j)):
                info["ambiguous"] = True
                info["why"].append("center score near-tie of tokens %d, %d (%.9g vs %.9g)"
                                   % (i, j, score[i], score[j]))
        # Nearest-center near-ties: either cluster is right for that token.
        for i in range(n):
            if i in centers or m < 2:
                continue
            d = np.array([D[i, c] for c in centers])
            best = d[p[i]]
            alts = {c for c in range(m) if c != p[i] and _near(d[c], best, tol(i, i))}
            if alts:
                info["alt"][i] = alts | {int(p[i])}
    return parent, count, infos


# ---------------------------------------------------------------------------
# tok.similarity_components
# ---------------------------------------------------------------------------


def exact_vectors(X):
    """Rows whose fp32 cosines are exact: entries in {-1, 0, 1}, squared norm
    in {0, 1, 4, 16, 64} (1 / norm is a power of 2)."""
    X = np.asarray(X, np.float64)
    n2 = np.sum(X * X, axis=-1)
    return np.isin(X, (-1.0, 0.0, 1.0)).all(axis=-1) & np.isin(n2, (0, 1, 4, 16, 64))


def _components(n, edges):
    """Components numbered by their lowest token index."""
    root = list(range(n))

    def find(i):
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    for i, j in zip(*np.nonzero(edges)):
        ri, rj = find(int(i)), find(int(j))
        if ri != rj:
            root[max(ri, rj)] = min(ri, rj)
    label, ids = {}, np.zeros(n, np.int64)
    for i in range(n):
        r = find(i)
        if r not in label:
            label[r] = len(label)
        ids[i] = label[r]
    return ids, len(label)


def components_atol(C):
    return 1e-6 + (2 * C + 8) * U32


def similarity_components(x, lengths=None, threshold=0.95, atol=None):
    """Reference for tok.similarity_components. Returns (parent, count, infos)."""
    x = np.asarray(x, dtype=np.float64)
    B, N, C = x.shape
    tol = components_atol(C) if atol is None else atol
    parent = np.full((B, N), -1, np.int32)
    count = np.zeros((B,), np.int32)
    infos = []
    for b in range(B):
        n = valid_length(lengths, b, N)
        info = {"ambiguous": False, "why": [], "alt": {}}
        infos.append(info)
        if n == 0:
            continue
        X = x[b, :n]
        nx = _normalise(X)
        with np.errstate(invalid="ignore"):
            S = nx @ nx.T
        zero = np.sum(X * X, axis=1) == 0
        ex = exact_vectors(X)
        # Exact pairs (a zero row, or two exactly representable rows): no slack.
        t = np.where(zero[:, None] | zero[None, :] | (ex[:, None] & ex[None, :]), 0.0, tol)
        with np.errstate(invalid="ignore"):
            sure = S > threshold + t
            maybe = S > threshold - t
        lo, nlo = _components(n, sure)
        hi, nhi = _components(n, maybe)
        parent[b, :n] = lo
        count[b] = nlo
        if nlo != nhi or not np.array_equal(lo, hi):
            info["ambiguous"] = True
            close = np.argwhere(np.triu(maybe & ~sure, 1))
            info["why"].append("%d similarities within %.2g of the threshold, e.g. (%d, %d): %.9g"
                               % (len(close), tol, close[0][0], close[0][1],
                                  S[close[0][0], close[0][1]]))
    return parent, count, infos


# ---------------------------------------------------------------------------
# Self-test
# ---------------------------------------------------------------------------


def _self_test():
    # row_cosine: zero rows give 0, NaN propagates, rank 4.
    a = np.array([[1.0, 0.0], [0.0, 0.0], [3.0, 4.0], [np.nan, 1.0]])
    b = np.array([[1.0, 1.0], [1.0, 2.0], [3.0, 4.0], [1.0, 1.0]])
    r = row_cosine(a, b)
    assert abs(r[0] - 2 ** -0.5) < 1e-15 and r[1] == 0 and abs(r[2] - 1) < 1e-15
    assert np.isnan(r[3])
    assert row_cosine(np.ones((2, 3, 4, 5)), np.ones((2, 3, 4, 5))).shape == (2, 3, 4)

    # density_peaks on a 1-D line: two groups {0, 1, 2} around 0, {3, 4} around 10.
    x = np.array([[[0.0], [1.0], [-1.0], [10.0], [11.0], [0.0]]])
    p, n, inf = density_peaks(x, np.array([5]), k=2, clusters=2, rtol=1e-9)
    # rho (k = 2, self + nearest): token 0: (0 + 1)/2, 1: (0 + 1)/2, 2: (0+1)/2,
    # 3: 0.5, 4: 0.5 -> all equal; densest = token 0 (index rule), delta_0 =
    # max = 11; delta_1 = 1 (to 0), delta_2 = 1 (to 0), delta_3 = 10 (to 0),
    # delta_4 = 1 (to 3). Centers: 0 (11 rho), 3 (10 rho).
    assert p[0].tolist() == [0, 0, 0, 1, 1, -1] and n.tolist() == [2], (p, n)
    assert not inf[0]["ambiguous"]
    # All-equal rows: every score 0 -> centers 0..m-1, everyone else to 0.
    p, n, _ = density_peaks(np.ones((1, 5, 3)), None, k=3, clusters=3)
    assert p[0].tolist() == [0, 1, 2, 0, 0] and n[0] == 3, p
    # Duplicates as centers: each center keeps its own cluster.
    p, n, _ = density_peaks(np.array([[[0.0], [0.0], [5.0]]]), None, k=1, clusters=3)
    assert sorted(p[0].tolist()) == [0, 1, 2] and n[0] == 3, p
    # Lengths 0 and clamping; clusters > len.
    p, n, _ = density_peaks(np.zeros((2, 3, 2)), np.array([0, 7]), k=1, clusters=9)
    assert p.tolist() == [[-1, -1, -1], [0, 1, 2]] and n.tolist() == [0, 3], (p, n)

    # similarity_components: two components, a zero row, a NaN row.
    x = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 0.0], [np.nan, 0.0], [0.0, 2.0]]])
    p, n, inf = similarity_components(x, None, 0.5)
    assert p[0].tolist() == [0, 1, 0, 2, 3, 1] and n[0] == 4, p
    p, n, _ = similarity_components(x, None, -1.0)  # zero row connects (0 > -1)
    assert p[0].tolist() == [0, 0, 0, 0, 1, 0] and n[0] == 2, p
    p, n, _ = similarity_components(x, np.array([4]), 1.0)  # cos 1 is not > 1
    assert p[0].tolist() == [0, 1, 2, 3, -1, -1] and n[0] == 4, p
    p, n, _ = similarity_components(x, None, 0.0)  # zero row: 0 > 0 is false
    assert p[0].tolist() == [0, 1, 0, 2, 3, 1] and n[0] == 4, p
    print("cluster_oracle self-test passed")


if __name__ == "__main__":
    _self_test()

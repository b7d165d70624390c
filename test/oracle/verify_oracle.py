"""Independent NumPy reference for Winnow's tok.spec_verify.

Written from the op description in
dialects/include/winnow/Dialect/Tok/IR/VerifyOps.td and from ops-reference
§4.1, §4.2 and §8 ("Randomness in verification", "Greedy chain",
"Rejection chain", "Typical acceptance"). It deliberately does not follow
the compiler's lowering: it is plain loop-over-requests code, and Philox
is implemented here from the published algorithm (Salmon et al. 2011,
Random123) and checked against the Random123 known-answer vectors.

  philox4x32_10(counter4, key2) -> four uint32 arrays
  philox_uniforms(seed, offset, K) -> [B, K] float32
  philox_exponentials(seed, offset, V) -> ([B, V] float64, [B, V] rel. error)
  spec_verify(logits, drafts, num_draft, ...) -> Result

Floating point. The op computes p = softmax(logits / T) in fp32; the oracle
divides in fp32 as the op does and then evaluates the softmax in float64.
The two differ by a few fp32 ulps (more for a large vocabulary: the fp32
row sum), so every data-dependent decision -- an acceptance test p/q >= u,
a typical threshold, the residual being identically zero, the winner of
an exponential race -- is made with an uncertainty band (see `tolerance`).
A request whose decision falls inside the band is reported as ambiguous
(Result.ambiguous, with a reason) and must be skipped by the caller, not
failed. Cases built to be exact (one-hot rows, p(x) = 1 against u = 1,
identical logits against identical exponentials) are recognised as exact:
a one-hot row is exactly one-hot in any fp32 implementation, and equal
inputs give bitwise-equal race keys, so the first index wins.

Needs only NumPy; run with Debian's /usr/bin/python3.
"""

import math

import numpy as np

# ---------------------------------------------------------------------------
# Philox4x32-10 (Random123)
# ---------------------------------------------------------------------------

PHILOX_M0, PHILOX_M1 = 0xD2511F53, 0xCD9E8D57
PHILOX_W0, PHILOX_W1 = 0x9E3779B9, 0xBB67AE85
_MASK32 = np.uint64(0xFFFFFFFF)


def _u64(x):
    return np.asarray(x, dtype=np.uint64) & _MASK32


def philox4x32_10(c0, c1, c2, c3, k0, k1):
    """Philox4x32 with 10 rounds, elementwise over broadcast uint32 arrays.

    Each round: (hi0, lo0) = mulhilo(M0, c0), (hi1, lo1) = mulhilo(M1, c2),
    c = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0); the key is bumped by the
    Weyl increments before every round but the first.
    """
    c0, c1, c2, c3, k0, k1 = np.broadcast_arrays(*(_u64(x) for x in (c0, c1, c2, c3, k0, k1)))
    m0, m1 = np.uint64(PHILOX_M0), np.uint64(PHILOX_M1)
    w0, w1 = np.uint64(PHILOX_W0), np.uint64(PHILOX_W1)
    s32 = np.uint64(32)
    for r in range(10):
        if r:
            k0 = (k0 + w0) & _MASK32
            k1 = (k1 + w1) & _MASK32
        p0 = m0 * c0  # < 2^64: exact in uint64
        p1 = m1 * c2
        hi0, lo0 = p0 >> s32, p0 & _MASK32
        hi1, lo1 = p1 >> s32, p1 & _MASK32
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return tuple(x.astype(np.uint32) for x in (c0, c1, c2, c3))


def philox_self_check():
    """Random123 known-answer tests; raises AssertionError on a mismatch."""
    kat = [
        ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
        ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
         (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
    ]
    for ctr, key, want in kat:
        got = tuple(int(x) for x in philox4x32_10(*ctr, *key))
        assert got == want, "Philox4x32-10 KAT: counter %s key %s: got %s, want %s" % (
            [hex(x) for x in ctr], [hex(x) for x in key], [hex(x) for x in got],
            [hex(x) for x in want])
    return True


def _split64(x):
    """int64 values -> (lo32, hi32) as uint64 arrays (two's complement)."""
    u = np.asarray(x, dtype=np.int64).astype(np.uint64)
    return u & _MASK32, u >> np.uint64(32)


def philox_first_word(seed, offset, n, stream):
    """First output word for key (lo32(seed), hi32(seed)) and counter
    (n, stream, lo32(offset), hi32(offset)); seed/offset [B], n [N] ->
    [B, N] uint32."""
    slo, shi = _split64(seed)
    olo, ohi = _split64(offset)
    n = np.asarray(n, dtype=np.uint64)[None, :]
    w, _, _, _ = philox4x32_10(n, np.uint64(stream), olo[:, None], ohi[:, None],
                               slo[:, None], shi[:, None])
    return w


def philox_uniforms(seed, offset, K):
    """u[b, i] = (w >> 8) * 2^-24 with n = i, stream = 0 (exact in fp32)."""
    w = philox_first_word(seed, offset, np.arange(K), 0)
    return ((w >> np.uint32(8)).astype(np.float64) * 2.0 ** -24).astype(np.float32)


def philox_exponentials(seed, offset, V):
    """E[b, v] = -log(((w >> 8) + 0.5) * 2^-24) with n = v, stream = 1.

    Returns (E in float64, relative uncertainty of an fp32 evaluation,
    integer key w >> 8 for exact-tie detection). An fp32 implementation may
    round the argument a (up to 2^-24 relative, so E can even become 0 when
    a rounds to 1) and the log (a few ulps).
    """
    w = philox_first_word(seed, offset, np.arange(V), 1)
    m = (w >> np.uint32(8)).astype(np.float64)
    a = (m + 0.5) * 2.0 ** -24
    E = -np.log(a)
    rel = 4.0 * 2.0 ** -24 / E + 8.0 * 2.0 ** -24
    return E, rel, (w >> np.uint32(8)).astype(np.int64)


# ---------------------------------------------------------------------------
# Probabilities
# ---------------------------------------------------------------------------


def scaled_logits(row_f32, T):
    """logits / T in fp32, as float64 values."""
    return (np.asarray(row_f32, np.float32) / np.float32(T)).astype(np.float64)


def softmax64(z):
    """Softmax in float64 of (already scaled) logits."""
    m = np.max(z)
    e = np.exp(z - m)
    return e / e.sum()


def tolerance(z, V):
    """Relative uncertainty of an fp32 evaluation of softmax(z): a few ulps
    per element, the fp32 row sum (grows like sqrt(V)), and a possibly
    different rounding of the division by T (grows with |z - max|)."""
    fin = z[np.isfinite(z)]
    spread = float(np.max(fin) - np.min(fin)) if fin.size else 0.0
    return 4e-6 + 8.0 * math.sqrt(V) * 2.0 ** -24 + 2.0 ** -22 * min(spread, 100.0)


def is_power_of_two(x):
    x = float(x)
    if not (x > 0) or not math.isfinite(x):
        return False
    m, _ = math.frexp(x)
    return m == 0.5


# ---------------------------------------------------------------------------
# The exponential race with uncertainty
# ---------------------------------------------------------------------------


class Ambiguous(Exception):
    pass


def race(w, w_lo, w_hi, E, E_rel, keys):
    """argmax_v w_v / E_v, first index on ties, NaN never wins.

    w_lo/w_hi bound the weights an fp32 implementation may compute, E_rel
    the relative error of its E. keys[v] is a hashable that is equal for two
    entries iff an implementation must compute bitwise-equal ratios for them.
    Raises Ambiguous when another entry could beat (or tie) the winner.
    """
    w = np.asarray(w, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = w / E
        E_lo = E * np.maximum(1.0 - E_rel, 0.0)
        E_hi = E * (1.0 + E_rel)
        r_lo = (w_lo / E_hi) * (1.0 - 2.0 ** -21)
        r_hi = (w_hi / E_lo) * (1.0 + 2.0 ** -21)
    r = np.where(np.isnan(r), -np.inf, r)
    r_lo = np.where(np.isnan(r_lo), -np.inf, r_lo)
    r_hi = np.where(np.isnan(r_hi), -np.inf, r_hi)
    win = int(np.argmax(r))
    if r[win] == -np.inf:
        raise Ambiguous("race: every ratio is NaN")
    rivals = np.nonzero(r_hi >= r_lo[win])[0]
    for v in rivals:
        v = int(v)
        if v == win:
            continue
        if keys[v] == keys[win] and v > win:
            continue  # bitwise-equal ratio: the first index (win) wins
        raise Ambiguous("race: tokens %d and %d within tolerance (%.9g vs %.9g)" % (
            win, v, r[win], r[v]))
    return win


# ---------------------------------------------------------------------------
# tok.spec_verify
# ---------------------------------------------------------------------------


class Result:
    def __init__(self, B, K):
        self.tokens = np.full((B, K + 1), -1, dtype=np.int32)
        self.num_accepted = np.zeros(B, dtype=np.int32)
        self.num_emitted = np.zeros(B, dtype=np.int32)
        self.ambiguous = np.zeros(B, dtype=bool)
        self.reasons = {}
        self.greedy = np.zeros(B, dtype=bool)


def spec_verify(logits, drafts, num_draft, draft_probs=None, temperature=None,
                is_greedy=None, uniforms=None, exponentials=None, seed=None,
                offset=None, mode="rejection", typical_epsilon=0.09,
                typical_alpha=0.3, target_probs=False):
    """Reference tok.spec_verify. logits [B, K+1, V] as float32 values (bf16 /
    f16 already widened); the rest as in the op. target_probs: `logits`
    holds the target's probabilities, used as given (the op's attribute).
    Returns a Result."""
    logits = np.asarray(logits, np.float32)
    B, R, V = logits.shape
    K = R - 1
    drafts = np.asarray(drafts, np.int64).reshape(B, K)
    num_draft = np.asarray(num_draft, np.int64).reshape(B)
    res = Result(B, K)

    if mode != "greedy":
        if seed is not None:
            U = philox_uniforms(seed, offset, K) if mode == "rejection" else None
            E, E_rel, E_keys = philox_exponentials(seed, offset, V)
        else:
            U = None if uniforms is None else np.asarray(uniforms, np.float32)
            E = np.asarray(exponentials, np.float32).astype(np.float64)
            E_rel = np.zeros_like(E)
            E_keys = np.ascontiguousarray(np.asarray(exponentials, np.float32)).view(np.uint32)

    for b in range(B):
        Kb = int(min(max(num_draft[b], 0), K))
        T = 1.0 if temperature is None else float(np.float32(temperature[b]))
        greedy = (mode == "greedy" or (is_greedy is not None and bool(is_greedy[b]))
                  or not (T > 0))
        res.greedy[b] = greedy
        out = []
        try:
            if greedy:
                _greedy(logits[b], drafts[b], Kb, out)
            elif mode == "rejection":
                q = None if draft_probs is None else np.asarray(draft_probs[b], np.float32)
                _rejection(logits[b], drafts[b], Kb, T, q, U[b], E[b], E_rel[b],
                           E_keys[b], out, target_probs)
            elif mode == "typical":
                _typical(logits[b], drafts[b], Kb, T, E[b], E_rel[b], E_keys[b],
                         typical_epsilon, typical_alpha, out, target_probs)
            else:
                raise ValueError(mode)
        except Ambiguous as e:
            res.ambiguous[b] = True
            res.reasons[b] = str(e)
        n = len(out)
        res.tokens[b, :n] = out
        res.num_emitted[b] = n
        res.num_accepted[b] = max(n - 1, 0)
    return res


def _argmax_first(row):
    row = np.asarray(row, np.float32)
    if np.isnan(row).any():
        raise Ambiguous("NaN logits in a row that is read")
    return int(np.argmax(row))  # first maximal index


def _greedy(lg, drafts, Kb, out):
    for i in range(Kb):
        a = _argmax_first(lg[i])
        out.append(a)
        if a != int(drafts[i]):
            return
    out.append(_argmax_first(lg[Kb]))


def _row_probs(row, T):
    if np.isnan(row).any():
        raise Ambiguous("NaN logits in a row that is read")
    z = scaled_logits(row, T)
    if not np.isfinite(np.max(z)):
        raise Ambiguous("row without a finite maximum")
    p = softmax64(z)
    return z, p, tolerance(z, z.size)


def _row(row, T, probs):
    """(z, p, tol, bits) of a row read by a test or a race: the row's logits
    (scaled) and probabilities with their tolerance, or, for given
    probabilities (target_probs), log p (-inf where p = 0) and p exactly,
    with the fp32 sum's tolerance for the entropy. `bits` identify entries
    whose ratios an implementation computes bitwise-equal."""
    if not probs:
        z, p, tol = _row_probs(row, T)
        return z, p, tol, _zbits(z)
    row = np.asarray(row, np.float32)
    if np.isnan(row).any():
        raise Ambiguous("NaN probabilities in a row that is read")
    p = row.astype(np.float64)
    with np.errstate(divide="ignore"):
        z = np.where(p > 0, np.log(np.maximum(p, 1e-300)), -np.inf)
    V = row.size
    return z, p, 4e-6 + 8.0 * math.sqrt(V) * 2.0 ** -24, \
        np.ascontiguousarray(row).view(np.uint32)


def _zbits(z):
    return np.ascontiguousarray(z.astype(np.float32)).view(np.uint32)


def _race_p(z, p, tol, E, E_rel, E_keys, zb=None, exact=False):
    zb = _zbits(z) if zb is None else zb
    keys = list(zip(zb.tolist(), E_keys.tolist()))
    t = 0.0 if exact else tol
    return race(p, p * (1 - t), p * (1 + t), E, E_rel, keys)


def _p_of(p, z, x, tol):
    """(p(x) nominal, certainly zero, possibly zero) for an fp32 evaluation."""
    px = float(p[x])
    if z[x] == -np.inf:
        return 0.0, True, True
    # e^-82 is near fp32's normal range: an implementation may flush it.
    return px, False, px < 1e-36 or px * (1 + tol) < 2.0 ** -126


def _rejection(lg, drafts, Kb, T, q, u, E, E_rel, E_keys, out, probs=False):
    V = lg.shape[1]
    for i in range(Kb):
        x = int(drafts[i])
        z, p, tol, zb = _row(lg[i], T, probs)
        if probs:
            tol = 0.0  # p is read, not computed
        valid = 0 <= x < V
        qrow = None if q is None else q[i].astype(np.float64)
        passed = False
        if valid:
            qx = 1.0 if q is None else float(qrow[x])
            px, p_zero, p_maybe_zero = _p_of(p, z, x, tol)
            if qx > 0 and not p_zero:
                ui = float(u[i])
                one_hot = np.count_nonzero(np.isfinite(z)) == 1 and np.isfinite(z[x])
                if one_hot and not probs and is_power_of_two(qx):
                    ratio_ok = (1.0 / qx) >= ui  # exact in fp32 on every target
                else:
                    ratio = px / qx
                    if abs(ratio - ui) <= (tol + 2.0 ** -22) * max(ratio, ui):
                        raise Ambiguous("row %d: p/q = %.9g within tolerance of u = %.9g" % (i, ratio, ui))
                    ratio_ok = ratio >= ui
                if p_maybe_zero and ratio_ok:
                    raise Ambiguous("row %d: p(x) = %.3g may underflow to 0" % (i, px))
                passed = ratio_ok
        if passed:
            out.append(x)
            continue
        # Correction from the residual.
        if q is None:
            w = p.copy()
            if valid:
                w[x] = 0.0
            err = p * tol
            w_lo, w_hi = np.maximum(w - err, 0.0), w + err
            if valid:
                w_lo[x] = w_hi[x] = 0.0
            keys = list(zip(zb.tolist(), E_keys.tolist()))
        else:
            d = p - qrow
            err = p * tol
            w = np.maximum(d, 0.0)
            w_lo, w_hi = np.maximum(d - err, 0.0), np.maximum(d + err, 0.0)
            qb = np.ascontiguousarray(q[i]).view(np.uint32)
            keys = list(zip(zb.tolist(), qb.tolist(), E_keys.tolist()))
            if probs:
                # p - q in fp32: one rounding.
                w_lo = np.maximum(d * (1 - 2.0 ** -24) - 2.0 ** -150, 0.0)
                w_hi = np.maximum(d * (1 + 2.0 ** -24) + 2.0 ** -150, 0.0)
        if not (w_lo > 0).any():
            fallback = _race_p(z, p, tol, E, E_rel, E_keys, zb)
            U = np.nonzero(w_hi > 0)[0]
            if U.size == 0:
                out.append(fallback)  # certainly identically zero
                return
            ident = set((keys[v][0],) + (keys[v][1:-1]) for v in U)
            if len(ident) == 1:
                # Equal weights over U (or all zero): race over U by E alone.
                sub = np.zeros(V)
                sub[U] = 1.0
                alt = race(sub, sub, sub, E, E_rel, keys)
                if alt == fallback:
                    out.append(fallback)
                    return
            raise Ambiguous("row %d: residual max(p - q, 0) is zero within tolerance" % i)
        out.append(race(w, w_lo, w_hi, E, E_rel, keys))
        return
    z, p, tol, zb = _row(lg[Kb], T, probs)
    out.append(_race_p(z, p, tol, E, E_rel, E_keys, zb, exact=probs))


def typical_threshold(p, epsilon, alpha):
    """min(epsilon, alpha * exp(-H(p))), H(p) = -sum p log(p + 1e-5)."""
    H = -float(np.sum(p * np.log(p + 1e-5)))
    return min(epsilon, alpha * math.exp(-H)), H


def _typical(lg, drafts, Kb, T, E, E_rel, E_keys, eps, alpha, out, probs=False):
    V = lg.shape[1]
    for i in range(Kb):
        x = int(drafts[i])
        z, p, tol, zb = _row(lg[i], T, probs)
        passed = False
        if 0 <= x < V:
            thr, H = typical_threshold(p, eps, alpha)
            px = float(p[x])
            band = (tol * (2.0 + abs(H)) + 2.0 ** -22) * max(px, thr)
            if abs(px - thr) <= band:
                raise Ambiguous("row %d: p(x) = %.9g within tolerance of the typical threshold %.9g"
                                % (i, px, thr))
            passed = px > thr
        if passed:
            out.append(x)
            continue
        out.append(_race_p(z, p, tol, E, E_rel, E_keys, zb, exact=probs))
        return
    z, p, tol, zb = _row(lg[Kb], T, probs)
    out.append(_race_p(z, p, tol, E, E_rel, E_keys, zb, exact=probs))


if __name__ == "__main__":
    philox_self_check()
    print("Philox4x32-10 known-answer tests: PASS")

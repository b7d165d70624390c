"""The verifiers' fp32 row statistics replayed bit for bit in NumPy.

verify_oracle.py decides in float64 and calls near ties ambiguous, which
cannot see a difference in the last bit of a log-sum-exp. This module
replays what both targets compute, operation by operation in float32
(round to nearest even, no fused multiply-add): Winnow's own exp and log
(passes/lib/Transforms/PortableExpLog.cpp) and the chunk order of the
log-sum-exp (tok.spec_verify's "Order of sums"). A test can then put a
uniform exactly on p(x) / q(x), where one bit of the log-sum-exp flips the
decision.
"""

import math

import numpy as np

F = np.float32

LN2_HI = F(0.693145751953125)
LN2_LO = F(1.428606765330187045e-06)
LOG2E = F(1.44269504088896341)
ROUND_MAGIC = F(12582912.0)
EXP_HIGH = F(88.72283935546875)
EXP_LOW = F(-103.97208404541015625)
EXP_COEFFICIENTS = [F(1) / F(720), F(1) / F(120), F(1) / F(24), F(1) / F(6),
                    F(0.5), F(1), F(1)]
LOG_COEFFICIENTS = [F(1) / F(7), F(1) / F(5), F(1) / F(3)]
SQRT2 = F(1.41421356237)

CHUNK_LANES = 32
LANE_ENTRIES = 8
CHUNK = CHUNK_LANES * LANE_ENTRIES


def _power_of_two(k):
    """2^k for an integer k in [-126, 127]."""
    return np.array([(k + 127) << 23], np.int32).view(np.float32)[0]


def exp_f32(x):
    x = F(x)
    if np.isnan(x):
        return x
    if x > EXP_HIGH:
        return F(np.inf)
    if x < EXP_LOW:
        return F(0)
    rounded = F(F(x * LOG2E) + ROUND_MAGIC)
    n = F(rounded - ROUND_MAGIC)
    r = F(F(x - F(n * LN2_HI)) - F(n * LN2_LO))
    p = F(1) / F(5040)
    for c in EXP_COEFFICIENTS:
        p = F(F(p * r) + c)
    e = int(n)
    half = e >> 1
    rest = e - half
    return F(F(p * _power_of_two(half)) * _power_of_two(rest))


def log_f32(x):
    x = F(x)
    if np.isnan(x) or x < 0:
        return F(np.nan)
    if x == 0:
        return F(-np.inf)
    if np.isinf(x):
        return F(np.inf)
    tiny = bool(x < F(2.0 ** -126))
    scaled = F(x * F(2.0 ** 23)) if tiny else x
    bits = int(np.array([scaled], np.float32).view(np.int32)[0])
    exponent = ((bits >> 23) & 255) - (127 + 23 if tiny else 127)
    m = np.array([(bits & 0x007FFFFF) | 0x3F800000], np.int32).view(np.float32)[0]
    if m > SQRT2:
        m = F(m * F(0.5))
        exponent += 1
    fraction = F(m - F(1))
    s = F(fraction / F(fraction + F(2)))
    z = F(s * s)
    series = F(1) / F(9)
    for c in LOG_COEFFICIENTS:
        series = F(F(series * z) + c)
    two_s = F(s + s)
    log_m = F(two_s + F(two_s * F(series * z)))
    e = F(exponent)
    return F(F(e * LN2_HI) + F(F(e * LN2_LO) + log_m))


def maximum_f32(a, b):
    """arith.maximumf: NaN wins, -0.0 is below +0.0."""
    if np.isnan(a) or np.isnan(b):
        return F(np.nan)
    if a == b:
        return b if np.signbit(a) else a
    return a if a > b else b


def warp_tree(values):
    """collective.warp_reduce add over 32 lane values: lane l takes lane
    l + d for d = 16, 8, 4, 2, 1; lane 0's result."""
    v = [F(x) for x in values]
    d = CHUNK_LANES // 2
    while d >= 1:
        for lane in range(d):
            v[lane] = F(v[lane] + v[lane + d])
        d //= 2
    return v[0]


def _lanes(chunk, vocab):
    for lane in range(CHUNK_LANES):
        first = chunk * CHUNK + lane * LANE_ENTRIES
        yield range(first, min(first + LANE_ENTRIES, vocab))


def row_lse_f32(row, temperature=F(1)):
    """The log-sum-exp of row / T in the chunk order."""
    row = np.asarray(row, np.float32)
    t = F(temperature)
    vocab = row.shape[0]
    maxima, sums = [], []
    for c in range(math.ceil(vocab / CHUNK)):
        largest = F(-np.inf)
        for entries in _lanes(c, vocab):
            lane_best = F(-np.inf)
            for v in entries:
                if row[v] > lane_best:  # the first maximum; NaN never wins
                    lane_best = row[v]
            largest = maximum_f32(largest, lane_best)
        m = F(largest / t)
        shift = F(0) if m == -np.inf else m
        lane_sums = []
        for entries in _lanes(c, vocab):
            s = F(0)
            for v in entries:
                s = F(s + exp_f32(F(F(row[v] / t) - shift)))
            lane_sums.append(s)
        maxima.append(m)
        sums.append(warp_tree(lane_sums))
    row_max = F(-np.inf)
    for m in maxima:
        row_max = maximum_f32(row_max, m)
    weights = [F(0)] * CHUNK_LANES
    for c, (m, s) in enumerate(zip(maxima, sums)):
        weights[c % CHUNK_LANES] = F(weights[c % CHUNK_LANES]
                                     + F(s * exp_f32(F(m - row_max))))
    return F(row_max + log_f32(warp_tree(weights)))


def prob_f32(logit, lse, temperature=F(1)):
    """p(x) = exp(x / T - lse) as both targets compute it."""
    return exp_f32(F(F(F(logit) / F(temperature)) - F(lse)))

#!/usr/bin/python3
"""Statistical losslessness test of tok.spec_verify's rejection sampling.

Speculative rejection sampling is lossless: whatever the draft distribution
q, when the draft x ~ q the first emitted token (the accepted draft, or the
correction drawn from max(p - q, 0)) is distributed exactly as the target
p_0 = softmax(logits[b, 0] / T). The same holds for a deterministic
(one-hot) drafter whatever the draft, and for the bonus token alone
(K_b = 0, the exponential race over p_0).

One compile, B = 100000 requests per run, V = 7, K = 2, Philox noise with a
fixed seed and offset = request index (deterministic). For each scenario a
chi-square goodness-of-fit test of the first emitted token against p_0 must
give a p-value above ALPHA = 1e-3 (cells with p_0 = 0 are left out and must
be empty). Scenarios:

  (a) draft_probs q far from p, drafts sampled from q with NumPy;
  (b) one-hot drafts (no draft_probs), drafts cycling over the vocabulary;
  (c) the bonus token alone (num_draft = 0).

Negative controls (the test must be able to fail; each must give a p-value
below 1e-12): (n1) greedy verification (temperature 0) taken as if it were
lossless; (n2) typical acceptance taken as if it were lossless; (n3) the
correct output of (a) against the draft distribution q_0 instead of p_0.

Also checks that the first 1000 requests of (a), (b) and (c) agree exactly
with the NumPy oracle. The p-value comes from the regularized upper
incomplete gamma function Q(df/2, x/2), computed here (series / continued
fraction), cross-checked against scipy or torch when one is importable.

Prints one line per check and `N passed, M failed`; exits 1 on failure.

  verify_statistics.py --compile winnow-compile --run winnow-run --workdir DIR
"""

import argparse
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_verify_oracle as rvo  # noqa: E402

B, K, V = 100000, 2, 7
ALPHA = 1e-3  # significance of the goodness-of-fit tests
CONTROL_MAX_P = 1e-12  # negative controls must be rejected at least this strongly
EXACT_SUBSAMPLE = 1000
SEED = 12345
TEMPERATURE = 0.8
LOGITS0 = np.array([2.0, 1.0, 0.5, 0.0, -np.inf, -1.0, 1.5], np.float32)  # p_0(4) = 0
Q0 = np.array([0.02, 0.05, 0.10, 0.30, 0.35, 0.18, 0.0], np.float32)  # far from p_0; q(6) = 0

# ---------------------------------------------------------------------------
# Chi-square survival function
# ---------------------------------------------------------------------------


def gammaincc(a, x):
    """Regularized upper incomplete gamma Q(a, x) (Numerical Recipes 6.2)."""
    if x <= 0:
        return 1.0
    lg = math.lgamma(a)
    if x < a + 1:  # series for P(a, x)
        term = total = 1.0 / a
        n = a
        for _ in range(10000):
            n += 1
            term *= x / n
            total += term
            if abs(term) < abs(total) * 1e-16:
                break
        return max(0.0, 1.0 - total * math.exp(-x + a * math.log(x) - lg))
    # Continued fraction for Q(a, x) (modified Lentz).
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-16:
            break
    return math.exp(-x + a * math.log(x) - lg) * h


def chi2_sf(stat, df):
    return gammaincc(df / 2.0, stat / 2.0)


def chi2_sf_reference(stat, df):
    """scipy or torch, when importable (None otherwise)."""
    try:
        from scipy.stats import chi2  # noqa: F401
        return float(chi2.sf(stat, df)), "scipy"
    except ImportError:
        pass
    try:
        import torch
        return float(torch.special.gammaincc(torch.tensor(df / 2.0, dtype=torch.float64),
                                             torch.tensor(stat / 2.0, dtype=torch.float64))), "torch"
    except ImportError:
        return None, None


def gof_cells(counts, P):
    """Pearson chi-square of observed cell counts against the law P (cells
    with probability 0 excluded; they must be empty). Returns the statistic,
    the degrees of freedom, the p-value, the count in empty cells and the
    smallest expected count."""
    counts = np.asarray(counts, np.float64).ravel()
    P = np.asarray(P, np.float64).ravel()
    n = counts.sum()
    live = P > 0
    expected = n * P[live] / P[live].sum()
    stat = float(np.sum((counts[live] - expected) ** 2 / expected))
    df = int(live.sum()) - 1
    return stat, df, chi2_sf(stat, df), int(counts[~live].sum()), float(expected.min())


def chi2_test(tokens, probs):
    """gof_cells of the observed first tokens against probs."""
    counts = np.bincount(np.asarray(tokens, np.int64), minlength=V)[:V]
    stat, df, pvalue, stray, _ = gof_cells(counts, probs)
    return stat, df, pvalue, counts, stray


# ---------------------------------------------------------------------------


def target_probs(logits_row, T):
    z = (logits_row.astype(np.float32) / np.float32(T)).astype(np.float64)
    e = np.exp(z - z.max())
    return e / e.sum()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--compile", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    t0 = time.time()
    rn = rvo.Runner(a)

    # Self-check of the chi-square survival function.
    for stat, df, want in ((3.0, 4, 0.5578254), (12.5916, 6, 0.05), (22.4577, 6, 0.001),
                           (0.5, 1, 0.4795001), (100.0, 5, 5.3e-20)):
        got = chi2_sf(stat, df)
        ok = abs(got - want) <= 1e-4 * want + (1e-21 if want < 1e-15 else 0)
        rn.report("chi2 survival function Q(%g/2, %g/2) = %.6g (table %.6g)" % (df, stat, got, want),
                  ok or (want < 1e-15 and got < 1e-18))
    ref, lib = chi2_sf_reference(7.5, 6)
    if ref is not None:
        rn.report("chi2 survival function agrees with %s (%.9g vs %.9g)" % (lib, chi2_sf(7.5, 6), ref),
                  abs(ref - chi2_sf(7.5, 6)) < 1e-9)

    progs = [
        rvo.make_verify("stats", "stat_q", B, K, V, "f32", "rejection", q=True, temp=True),
        rvo.make_verify("stats", "stat_onehot", B, K, V, "f32", "rejection", temp=True),
        rvo.make_verify("stats", "stat_typical", B, K, V, "f32", "typical", temp=True),
    ]
    src = os.path.join(a.workdir, "stats.mlir")
    art = os.path.join(a.workdir, "stats.wnn")
    err = rn.compile(src, art, "\n\n".join(p.text() for p in progs) + "\n")
    if err:
        rn.report("compile", False, err)
        print("%d passed, %d failed" % (rn.passed, rn.failed))
        return 1
    pq, poh, ptyp = progs

    rng = np.random.default_rng(SEED)
    logits = (rng.standard_normal((B, K + 1, V))).astype(np.float32)
    logits[:, 0, :] = LOGITS0
    p0 = target_probs(LOGITS0, TEMPERATURE)
    q = np.empty((B, K, V), np.float32)
    q[:] = (rng.dirichlet(np.ones(V), size=K)).astype(np.float32)
    q[:, 0, :] = Q0
    drafts = np.empty((B, K), np.int32)
    for i in range(K):
        row = q[0, i].astype(np.float64)
        drafts[:, i] = rng.choice(V, size=B, p=row / row.sum())
    base = {
        "logits": logits, "drafts": drafts, "num_draft": np.full(B, K, np.int32),
        "temperature": np.full(B, TEMPERATURE, np.float32),
        "seed": np.full(B, SEED, np.int64), "offset": np.arange(B, dtype=np.int64),
    }
    print("# p_0 = %s" % np.round(p0, 5).tolist())
    print("# q_0 = %s" % Q0.tolist())

    def run(prog, inputs, tag):
        ts = time.time()
        outs, err = rn.run(art, prog.name, prog.args, inputs, prog.results,
                           os.path.join(a.workdir, tag))
        if err:
            rn.report("%s: run" % tag, False, err)
            return None
        print("# %s: %s ran in %.2fs; mean num_accepted %.4f" % (
            tag, prog.name, time.time() - ts, float(outs["num_accepted"].mean())))
        return outs

    def exact_subsample(prog, inputs, outs, tag, mode):
        sub = {k: v[:EXACT_SUBSAMPLE] for k, v in inputs.items()}
        so = {k: v[:EXACT_SUBSAMPLE] for k, v in outs.items()}
        for what, ok, detail in rvo.check_against_oracle(sub, so, mode):
            rn.report("%s: first %d requests vs oracle: %s" % (tag, EXACT_SUBSAMPLE, what), ok, detail)

    def gof(tag, first, probs, expect_fit):
        stat, df, pv, counts, stray = chi2_test(first, probs)
        detail = "chi2 = %.3f, df = %d, p-value = %.3g; counts %s; expected %s" % (
            stat, df, pv, counts.tolist(), np.round(len(first) * probs, 1).tolist())
        if expect_fit:
            rn.report("%s: first token ~ p_0 (p-value > %g) [%s]" % (tag, ALPHA, detail),
                      pv > ALPHA and stray == 0,
                      "" if stray == 0 else "%d tokens with p_0 = 0" % stray)
        else:
            rn.report("%s: negative control rejected (p-value < %g) [%s]" % (tag, CONTROL_MAX_P, detail),
                      pv < CONTROL_MAX_P)

    # (a) draft_probs far from p, drafts ~ q.
    inp_a = {k: base[k] for k, _, _ in pq.args if k in base}
    inp_a["draft_probs"] = q
    out_a = run(pq, inp_a, "a_draft_probs")
    if out_a is not None:
        exact_subsample(pq, inp_a, out_a, "(a) draft_probs", "rejection")
        acc0 = float((out_a["num_accepted"] > 0).mean())
        print("# (a) acceptance rate at row 0: %.4f (theory sum min(p, q) = %.4f)" % (
            acc0, float(np.minimum(p0, Q0.astype(np.float64)).sum())))
        gof("(a) draft_probs q far from p, drafts ~ q", out_a["tokens"][:, 0], p0, True)
        gof("(n3) (a)'s output against q_0", out_a["tokens"][:, 0],
            Q0.astype(np.float64) / Q0.sum(), False)

    # (b) one-hot drafts, cycling over the vocabulary (the losslessness does
    # not depend on how a deterministic drafter picks its tokens).
    inp_b = {k: base[k] for k, _, _ in poh.args if k in base}
    inp_b["drafts"] = np.stack([np.arange(B) % V, (np.arange(B) // V) % V], 1).astype(np.int32)
    inp_b["offset"] = base["offset"] + B  # fresh noise
    out_b = run(poh, inp_b, "b_one_hot")
    if out_b is not None:
        exact_subsample(poh, inp_b, out_b, "(b) one-hot", "rejection")
        gof("(b) one-hot drafts", out_b["tokens"][:, 0], p0, True)

    # (c) the bonus token alone.
    inp_c = dict(inp_a, num_draft=np.zeros(B, np.int32), offset=base["offset"] + 2 * B)
    out_c = run(pq, inp_c, "c_bonus_only")
    if out_c is not None:
        exact_subsample(pq, inp_c, out_c, "(c) bonus only", "rejection")
        gof("(c) bonus token alone (K_b = 0)", out_c["tokens"][:, 0], p0, True)

    # (n1) greedy (temperature 0) as if lossless.
    inp_n1 = dict(inp_a, temperature=np.zeros(B, np.float32))
    out_n1 = run(pq, inp_n1, "n1_greedy")
    if out_n1 is not None:
        gof("(n1) greedy verification as if lossless", out_n1["tokens"][:, 0], p0, False)

    # (n2) typical acceptance as if lossless (one-hot drafts from q).
    inp_n2 = {k: inp_a[k] for k, _, _ in ptyp.args}
    out_n2 = run(ptyp, inp_n2, "n2_typical")
    if out_n2 is not None:
        gof("(n2) typical acceptance as if lossless", out_n2["tokens"][:, 0], p0, False)

    print("# %d compiles in %.1fs; %d runs in %.1fs; total %.1fs" % (
        rn.n_compiles, rn.compile_time, rn.n_runs, rn.run_time, time.time() - t0))
    print("%d passed, %d failed" % (rn.passed, rn.failed))
    return 1 if rn.failed else 0


if __name__ == "__main__":
    sys.exit(main())

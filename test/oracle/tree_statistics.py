#!/usr/bin/python3
"""Statistical losslessness test of tok.tree_verify's rejection walk.

The SpecInfer / EAGLE sampling walk over deterministic (one-hot) children
is lossless: whatever the tree, the first emitted token (the first passing
child of the root, or the sample from p_root with the rejected children's
tokens masked) is distributed exactly as p_root = softmax(logits[root] /
T). Recursively, when the first token x is accepted at child node c (the
first child carrying x: a repeated token is skipped), the walk continues
at c, so the second emitted token is distributed as p_c; when x is a
sampled token the walk stops (num_emitted = 1). Hence the joint law of
(first token, second token or END):

    P(x, y)   = p_root(x) * p_{c(x)}(y)   x a child token of the root
    P(x, END) = p_root(x)                 otherwise

One compile, B = 100000 requests per run, V = 7, one fixed tree (T = 9)
for every request, Philox noise with a fixed seed and offset = request
index, temperature 0.8:

    node 0 (root)
    |- 1: token 1     |- 5: token 3   (child of 1)
    |- 2: token 1     (duplicate of node 1: skipped; its child 6 unreachable)
    |   `- 6: token 2
    |- 3: token 5     |- 7: token 0, 8: token 0 (duplicates), child of 3
    `- 4: token 4     (p_root(4) = 0: always rejected)

Checks (chi-square goodness of fit, p-value > ALPHA = 1e-3; cells of
probability 0 are left out and must be empty):
  (a) the first emitted token ~ p_root;
  (b) the joint law of the first two emitted tokens above;
  (c) structure: a first token 1 or 5 is always accepted at node 1 or 3
      (accept_nodes[1]), every other first token ends the walk.
Negative controls (must be rejected with p-value < 1e-12): (n1) greedy
verification (temperature 0: the request is verified greedily) taken as
if it were lossless; (n2) (b)'s output against the law with the second
token drawn from p_root instead of p_{c(x)} (the wrong row); (n3) (a)'s
output against p_root at temperature 1 instead of 0.8.

Also checks that the first 1000 requests agree exactly with the NumPy
oracle (tree_oracle.py). The chi-square helpers are verify_statistics.py's.

Prints one line per check and `N passed, M failed`; exits 1 on failure.

  tree_statistics.py --compile winnow-compile --run winnow-run --workdir DIR
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_tree_oracle as rto  # noqa: E402
import run_verify_oracle as rvo  # noqa: E402
import tree_oracle as to  # noqa: E402
import verify_statistics as vs  # noqa: E402

B, T, V = 100000, 9, 7
ALPHA = 1e-3
CONTROL_MAX_P = 1e-12
EXACT_SUBSAMPLE = 1000
SEED = 20240607
TEMPERATURE = 0.8
PARENTS = [-1, 0, 0, 0, 0, 1, 2, 3, 3]
TOKENS = [6, 1, 1, 5, 4, 3, 2, 0, 0]
NINF = -np.inf
LOGITS = np.array([
    [0.6, 1.1, 0.2, 0.9, NINF, 0.8, 0.0],    # root: p(4) = 0
    [0.3, -0.2, 0.5, 1.4, 0.1, 0.0, 0.7],    # node 1: second token when 1 is first
    [0.0] * 7,                               # node 2 (never walked)
    [1.2, 0.4, -0.3, 0.0, 0.6, NINF, 0.2],   # node 3: second token when 5 is first
    [0.0] * 7, [0.0] * 7, [0.0] * 7, [0.0] * 7, [0.0] * 7,
], np.float32)
END = V  # the "no second token" cell


def probs(row, temp):
    return vs.target_probs(np.asarray(row), temp)


def joint_law(rows_for_second):
    """[V, V + 1] law of (first, second or END); rows_for_second maps a
    first token to the distribution of the second."""
    p0 = probs(LOGITS[0], TEMPERATURE)
    P = np.zeros((V, V + 1))
    for x in range(V):
        if x in rows_for_second:
            P[x, :V] = p0[x] * rows_for_second[x]
        else:
            P[x, END] = p0[x]
    return P


gof_cells = vs.gof_cells


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--compile", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    t0 = time.time()
    rn = rvo.Runner(a)

    prog = rto.make_tree("tree_stats", "tree_rejection_stats", B, T, V, T, "f32", "rejection",
                         temp=True, noise="philox")
    src = os.path.join(a.workdir, "tree_stats.mlir")
    art = os.path.join(a.workdir, "tree_stats.wnn")
    err = rn.compile(src, art, prog.text() + "\n")
    if err:
        rn.report("compile", False, err)
        print("%d passed, %d failed" % (rn.passed, rn.failed))
        return 1

    base = {
        "logits": np.broadcast_to(LOGITS, (B, T, V)).copy(),
        "tree_tokens": np.broadcast_to(np.array(TOKENS, np.int32), (B, T)).copy(),
        "parents": np.broadcast_to(np.array(PARENTS, np.int32), (B, T)).copy(),
        "num_nodes": np.full(B, T, np.int32),
        "temperature": np.full(B, TEMPERATURE, np.float32),
        "seed": np.full(B, SEED, np.int64),
        "offset": np.arange(B, dtype=np.int64),
    }
    p0 = probs(LOGITS[0], TEMPERATURE)
    p1, p3 = probs(LOGITS[1], TEMPERATURE), probs(LOGITS[3], TEMPERATURE)
    print("# p_root = %s" % np.round(p0, 5).tolist())
    print("# p_node1 = %s" % np.round(p1, 5).tolist())
    print("# p_node3 = %s" % np.round(p3, 5).tolist())

    def run(inputs, tag):
        ts = time.time()
        outs, err = rn.run(art, prog.name, prog.args, inputs, prog.results,
                           os.path.join(a.workdir, tag))
        if err:
            rn.report("%s: run" % tag, False, err)
            return None
        print("# %s: ran in %.2fs; mean num_accepted %.4f" % (
            tag, time.time() - ts, float(outs["num_accepted"].mean())))
        return outs

    def report_gof(tag, counts, P, expect_fit):
        stat, df, pv, stray, emin = gof_cells(counts, P)
        detail = "chi2 = %.3f, df = %d, p-value = %.3g, min expected count %.1f" % (
            stat, df, pv, emin)
        if expect_fit:
            rn.report("%s (p-value > %g) [%s]" % (tag, ALPHA, detail), pv > ALPHA and stray == 0,
                      "" if stray == 0 else "%d draws in cells of probability 0" % stray)
        else:
            rn.report("%s: negative control rejected (p-value < %g) [%s]" % (
                tag, CONTROL_MAX_P, detail), pv < CONTROL_MAX_P)

    out = run(base, "rejection")
    if out is not None:
        tok = out["tokens"].astype(np.int64)
        acc = out["num_accepted"].astype(np.int64)
        nodes = out["accept_nodes"].astype(np.int64)
        # Exact agreement on a subsample.
        sub = {k: v[:EXACT_SUBSAMPLE] for k, v in base.items()}
        r = to.tree_verify(sub["logits"], sub["tree_tokens"], sub["parents"], sub["num_nodes"],
                           T, sub["temperature"], None, sub["seed"], sub["offset"],
                           "rejection")
        keep = ~r.ambiguous
        ok = (np.array_equal(r.tokens[keep], tok[:EXACT_SUBSAMPLE][keep]) and
              np.array_equal(r.accept_nodes[keep], nodes[:EXACT_SUBSAMPLE][keep]) and
              np.array_equal(r.num_accepted[keep], acc[:EXACT_SUBSAMPLE][keep]))
        bad = np.nonzero(keep & ((r.tokens != tok[:EXACT_SUBSAMPLE]).any(1)))[0][:3]
        rn.report("first %d requests agree exactly with tree_oracle (%d ambiguous skipped)" % (
            EXACT_SUBSAMPLE, int(r.ambiguous.sum())), ok,
            "; ".join("request %d: oracle %s %s, got %s %s" % (
                b, r.accept_nodes[b].tolist(), r.tokens[b].tolist(), nodes[b].tolist(),
                tok[b].tolist()) for b in bad))

        first = tok[:, 0]
        second = np.where(acc >= 1, tok[:, 1], END)
        # (c) structure
        at = {1: 1, 5: 3}
        struct_bad = [int(b) for b in range(B) if
                      (first[b] in at) != (acc[b] >= 1) or
                      (first[b] in at and nodes[b, 1] != at[int(first[b])])][:5]
        rn.report("(c) first token 1 / 5 accepted at node 1 / 3, any other first token ends "
                  "the walk", not struct_bad, "requests %s" % struct_bad)
        print("# walk depth histogram (num_accepted): %s" % np.bincount(acc, minlength=4).tolist())
        fc = np.bincount(first, minlength=V)[:V]
        print("# first-token counts %s; expected %s" % (fc.tolist(), np.round(B * p0, 1).tolist()))
        report_gof("(a) first emitted token ~ p_root", fc, p0, True)
        report_gof("(n3) (a)'s first token against p_root at temperature 1",
                   fc, probs(LOGITS[0], 1.0), False)
        jc = np.zeros((V, V + 1), np.int64)
        np.add.at(jc, (first, second), 1)
        report_gof("(b) joint law of the first two emitted tokens", jc,
                   joint_law({1: p1, 5: p3}), True)
        report_gof("(n2) (b)'s joint counts against the wrong row (second token ~ p_root)", jc,
                   joint_law({1: p0, 5: p0}), False)

    inp = dict(base, temperature=np.zeros(B, np.float32), offset=base["offset"] + B)
    outg = run(inp, "greedy_by_temperature")
    if outg is not None:
        fc = np.bincount(outg["tokens"][:, 0].astype(np.int64), minlength=V)[:V]
        report_gof("(n1) temperature 0 (verified greedily) as if lossless", fc, p0, False)

    print("# %d compile(s) in %.1fs; %d runs in %.1fs; total %.1fs" % (
        rn.n_compiles, rn.compile_time, rn.n_runs, rn.run_time, time.time() - t0))
    print("%d passed, %d failed" % (rn.passed, rn.failed))
    return 1 if rn.failed else 0


if __name__ == "__main__":
    sys.exit(main())

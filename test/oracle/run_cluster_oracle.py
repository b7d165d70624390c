#!/usr/bin/python3
"""End-to-end oracle tests for tok.row_cosine / tok.density_peaks / tok.similarity_components.

Generates tok programs (several functions per module, one compile per
module), compiles them with winnow-compile, runs every case with winnow-run on
the CPU and compares with the independent NumPy reference in
cluster_oracle.py:

  * row_cosine (fp32) within 1e-6 plus the fp32 error of two norms and a
    C-term dot product ((2C + 8) u32); NaN where (and only where) expected;
  * density_peaks: count exactly; parent exactly per batch row, except rows
    whose plan hinges on an fp32 near-tie of densities or center scores
    (skipped and counted in the label) and tokens equidistant (to within the
    tolerance) from two centers, which may take either; on every row the
    plan must be well formed (padding -1, parents in [0, count), every
    cluster used, count = min(clusters, len));
  * similarity_components: parent and count exactly, except rows where a
    similarity lies within the tolerance of the threshold and decides the
    partition; on every row the plan is numbered by lowest token index and
    lies between the components of the certain and of the possible edges;
  * plan -> tok.scatter_merge (mean) pipelines: the merge judged on Winnow's
    own plan with run_merge_oracle.py's checks.

With --recipes, instead compiles the video / VLM recipes in examples/
(dycoke_ttm, holitom_static_merge, llava_scissor, sparsevlm_recycle) and
checks them stage by stage against the same references (and prune_oracle.py
/ merge_oracle.py for tok.select, tok.compact, tok.attn_score,
tok.scatter_merge).

Prints one line per check and a final `N passed, M failed`; exits 1 on any
failure. Run with Debian's /usr/bin/python3 (needs NumPy).

  run_cluster_oracle.py --compile winnow-compile --run winnow-run --workdir DIR
                        [--seed S] [--quick] [--filter SUBSTR] [--recipes]
"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import cluster_oracle as orc  # noqa: E402
import merge_oracle as morc  # noqa: E402
import prune_oracle as porc  # noqa: E402
from run_chunk_oracle import _sig, check_close_nan, run_programs, tool_args  # noqa: E402
from run_merge_oracle import merge_checks, merge_op  # noqa: E402
from run_prune_oracle import (  # noqa: E402
    Program, _Types, as_values, check_bits, check_close, check_exact, fmt_f64)

# ---------------------------------------------------------------------------
# Op text
# ---------------------------------------------------------------------------


def cosine_op(out, a, lhs, rhs):
    return "%%%s = tok.row_cosine %%%s, %%%s" % (out, lhs, rhs) + _sig(a.types(), [lhs, rhs], [out])


def dpc_op(parent, count, a, x, k, clusters, lengths=None):
    ops = [x] + ([lengths] if lengths else [])
    text = "%%%s, %%%s = tok.density_peaks %%%s" % (parent, count, x)
    if lengths:
        text += " lengths %" + lengths
    text += " {k = %d, clusters = %d}" % (k, clusters)
    return text + _sig(a.types(), ops, [parent, count])


def comp_op(parent, count, a, x, threshold, lengths=None):
    ops = [x] + ([lengths] if lengths else [])
    text = "%%%s, %%%s = tok.similarity_components %%%s" % (parent, count, x)
    if lengths:
        text += " lengths %" + lengths
    text += " {threshold = %s : f64}" % fmt_f64(threshold)
    return text + _sig(a.types(), ops, [parent, count])


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------


def cosine_checks(lhs, rhs, got, prefix=""):
    C = np.shape(lhs)[-1]
    ref = orc.row_cosine(lhs, rhs)
    atol = orc.row_cosine_atol(C)
    return [check_close_nan(prefix + "similarity (atol %.2g)" % atol, ref, got, 0.0, atol)]


def _valid_mask(lengths, B, N):
    return np.array([[i < orc.valid_length(lengths, b, N) for i in range(N)] for b in range(B)])


def well_formed(what, got_parent, got_count, lengths, exp_count=None):
    """Padding -1, parents in [0, count), every cluster used."""
    gp = np.asarray(got_parent).astype(np.int64)
    gc = np.asarray(got_count).astype(np.int64)
    B, N = gp.shape
    valid = _valid_mask(lengths, B, N)
    bad = []
    for b in range(B):
        n = int(valid[b].sum())
        row = gp[b, :n]
        c = int(gc[b])
        ok = (gp[b, n:] == -1).all() and 0 <= c <= n and (row >= 0).all() and (row < c).all() \
            and len(set(row.tolist())) == c
        if exp_count is not None:
            ok = ok and c == int(exp_count[b])
        if not ok:
            bad.append(b)
    return (what, not bad, "rows %s: parent %s, count %s" % (
        bad, gp[bad[0]].tolist() if bad else "", gc[bad[0]] if bad else ""))


def dpc_checks(x, lengths, k, clusters, got_parent, got_count, prefix=""):
    ep, ec, infos = orc.density_peaks(x, lengths, k, clusters)
    gp = np.asarray(got_parent).astype(np.int64)
    gc = np.asarray(got_count).astype(np.int64)
    B, N = ep.shape
    amb = [b for b in range(B) if infos[b]["ambiguous"]]
    for b in amb:
        print("# %srow %d not compared: %s" % (prefix, b, "; ".join(infos[b]["why"][:3])))
    rows = [b for b in range(B) if b not in amb]
    checks = [check_exact(prefix + "count = min(clusters, len)", ec, gc)]
    # Tokens equidistant from two centers: either cluster.
    exp = ep.astype(np.int64).copy()
    nalt = 0
    for b in rows:
        for i, allowed in infos[b]["alt"].items():
            nalt += 1
            if int(gp[b, i]) in allowed:
                exp[b, i] = gp[b, i]
    skip = []
    if amb:
        skip.append("%d of %d rows near-tie, not compared" % (len(amb), B))
    if nalt:
        skip.append("%d tokens near two centers, either accepted" % nalt)
    checks.append(check_exact(prefix + "parent" + (" (%s)" % "; ".join(skip) if skip else ""),
                              exp[rows], gp[rows]))
    checks.append(well_formed(prefix + "plan well formed (all rows)", gp, gc, lengths, ec))
    return checks


def comp_checks(x, lengths, threshold, got_parent, got_count, prefix=""):
    ep, ec, infos = orc.similarity_components(x, lengths, threshold)
    gp = np.asarray(got_parent).astype(np.int64)
    gc = np.asarray(got_count).astype(np.int64)
    B, N = ep.shape
    amb = [b for b in range(B) if infos[b]["ambiguous"]]
    for b in amb:
        print("# %srow %d not compared: %s" % (prefix, b, "; ".join(infos[b]["why"][:3])))
    rows = [b for b in range(B) if b not in amb]
    skip = " (%d of %d rows near the threshold, not compared)" % (len(amb), B) if amb else ""
    checks = [check_exact(prefix + "count" + skip, ec[rows], gc[rows]),
              check_exact(prefix + "parent" + skip, ep[rows], gp[rows]),
              well_formed(prefix + "plan well formed (all rows)", gp, gc, lengths)]
    # Every row: numbered by lowest token index (first occurrences 0, 1, 2, ...).
    bad = []
    for b in range(B):
        n = orc.valid_length(lengths, b, N)
        seen = []
        for v in gp[b, :n].tolist():
            if v not in seen:
                seen.append(v)
        if seen != list(range(len(seen))):
            bad.append(b)
    checks.append((prefix + "components numbered by lowest token index (all rows)", not bad,
                   "rows %s: %s" % (bad, gp[bad[0]].tolist() if bad else "")))
    # Ambiguous rows: between the certain and the possible components.
    if amb:
        lo_p, _, _ = orc.similarity_components(x, lengths, threshold)
        hi_p, _, _ = orc.similarity_components(x, lengths, threshold, atol=0.0)
        off = []
        xs = np.asarray(x, np.float64)
        C = xs.shape[2]
        for b in amb:
            n = orc.valid_length(lengths, b, N)
            t = orc.components_atol(C)
            sure, _, _ = orc.similarity_components(xs[b:b + 1], [n], threshold + t, atol=0.0)
            maybe, _, _ = orc.similarity_components(xs[b:b + 1], [n], threshold - t, atol=0.0)
            g = gp[b, :n]
            for i in range(n):
                for j in range(i + 1, n):
                    if sure[0, i] == sure[0, j] and g[i] != g[j]:
                        off.append(b)
                    if g[i] == g[j] and maybe[0, i] != maybe[0, j]:
                        off.append(b)
        checks.append((prefix + "ambiguous rows between certain and possible components",
                       not off, "rows %s" % sorted(set(off))))
    return checks


# ---------------------------------------------------------------------------
# Program builders
# ---------------------------------------------------------------------------


def make_cosine(module, name, shape, dt):
    args = [("lhs", shape, dt), ("rhs", shape, dt)]
    results = [("sim", shape[:-1], "f32")]
    tt = _Types(args, results)

    def check(inp, out):
        return cosine_checks(inp["lhs"], inp["rhs"], out["sim"])

    return Program(module, name, args, results, [cosine_op("sim", tt, "lhs", "rhs")], check)


def make_dpc(module, name, B, N, C, dt, k, clusters, lengths=True, merge=False):
    args = [("x", (B, N, C), dt)] + ([("lengths", (B,), "i32")] if lengths else [])
    results = [("parent", (B, N), "i32"), ("count", (B,), "i32")]
    if merge:
        results += [("merged", (B, N, C), dt), ("sizes", (B, N), "f32")]
    tt = _Types(args, results)
    body = [dpc_op("parent", "count", tt, "x", k, clusters, "lengths" if lengths else None)]
    if merge:
        body.append(merge_op(["merged"], "sizes", tt, "parent", "count", ["x"], reduction="mean"))

    def check(inp, out):
        ln = inp.get("lengths")
        c = dpc_checks(inp["x"], ln, k, clusters, out["parent"], out["count"],
                       prefix="plan: " if merge else "")
        if merge:
            c += merge_checks(out["parent"], out["count"], [inp["x"]], [dt], None, "mean", N,
                              [out["merged"]], out["sizes"], prefix="merge (on Winnow's plan): ")
        return c

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, N=N, C=C, dt=dt)
    return p


def make_comp(module, name, B, N, C, dt, threshold, lengths=True, merge=False):
    args = [("x", (B, N, C), dt)] + ([("lengths", (B,), "i32")] if lengths else [])
    results = [("parent", (B, N), "i32"), ("count", (B,), "i32")]
    if merge:
        results += [("merged", (B, N, C), dt), ("sizes", (B, N), "f32")]
    tt = _Types(args, results)
    body = [comp_op("parent", "count", tt, "x", threshold, "lengths" if lengths else None)]
    if merge:
        body.append(merge_op(["merged"], "sizes", tt, "parent", "count", ["x"], reduction="mean"))

    def check(inp, out):
        ln = inp.get("lengths")
        c = comp_checks(inp["x"], ln, threshold, out["parent"], out["count"],
                        prefix="plan: " if merge else "")
        if merge:
            c += merge_checks(out["parent"], out["count"], [inp["x"]], [dt], None, "mean", N,
                              [out["merged"]], out["sizes"], prefix="merge (on Winnow's plan): ")
        return c

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, N=N, C=C, dt=dt)
    return p


# ---------------------------------------------------------------------------
# Input generators
# ---------------------------------------------------------------------------


def mixture(rng, N, C, clusters, spread=3.0, noise=0.5):
    """Points around `clusters` random centers (spread apart), noise per point
    varies so densities differ."""
    cent = spread * rng.standard_normal((clusters, C))
    assign = rng.integers(0, clusters, size=N)
    scale = noise * rng.uniform(0.3, 1.5, size=(N, 1))
    return (cent[assign] + scale * rng.standard_normal((N, C))).astype(np.float32)


def directions(rng, N, C, clusters, noise):
    """Unit-ish directions around `clusters` random directions (cosine
    clusters), random magnitudes."""
    d = rng.standard_normal((clusters, C))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    assign = rng.integers(0, clusters, size=N)
    x = d[assign] + noise * rng.standard_normal((N, C)) / np.sqrt(C)
    return (x * rng.uniform(0.5, 4.0, size=(N, 1))).astype(np.float32)


def with_duplicates(rng, x, ndup):
    x = x.copy()
    N = x.shape[0]
    for _ in range(ndup):
        i, j = rng.choice(N, 2, replace=False)
        x[j] = x[i]
    return x


def exact_rows(rng, N, C):
    """Rows of {-1, 0, 1} with squared norm in {1, 4} (fp32 cosines exact)."""
    x = np.zeros((N, C), np.float32)
    for i in range(N):
        nz = 1 if rng.random() < 0.5 else 4
        idx = rng.choice(min(C, 6), nz, replace=False)
        x[i, idx] = rng.choice([-1.0, 1.0], nz)
    return x


def batch(rows):
    return np.stack(rows).astype(np.float32)


# ---------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------


def build_corpus(rng, n_random):
    progs = []
    R = n_random

    # ---- row_cosine ----------------------------------------------------------
    for name, shape, dt in (("cos_r2_f32", (8, 33), "f32"), ("cos_r3_bf16", (2, 5, 64), "bf16"),
                            ("cos_r4_f16", (2, 3, 4, 16), "f16"), ("cos_r3_c1", (2, 7, 1), "f32"),
                            ("cos_r3_c300", (1, 4, 300), "f32")):
        p = make_cosine("row_cosine", name, shape, dt)
        for r in range(R):
            a = rng.standard_normal(shape).astype(np.float32)
            b = (0.7 * a + 0.7 * rng.standard_normal(shape)).astype(np.float32)
            p.add("random%d" % r, {"lhs": a, "rhs": b})
        a = rng.standard_normal(shape).astype(np.float32)
        b = rng.standard_normal(shape).astype(np.float32)
        fa, fb = a.reshape(-1, shape[-1]), b.reshape(-1, shape[-1])
        rows = fa.shape[0]
        fb[0] = fa[0]                 # identical: 1
        fb[1 % rows] = -fa[1 % rows]  # opposite: -1
        fa[2 % rows] = 0.0            # zero lhs: 0
        fb[3 % rows] = 0.0            # zero rhs: 0
        if rows > 4:
            fa[4] = 0.0
            fb[4] = 0.0               # both zero: 0
        if rows > 5:
            fa[5, 0] = np.nan         # NaN lhs: NaN
        if rows > 6:
            fb[6, -1] = np.nan        # NaN rhs: NaN
        if rows > 7:
            fa[7] *= 1e-3             # scale invariance
            fb[7] *= 300.0
        p.add("special(same,opposite,zero,nan,scaled)", {"lhs": a, "rhs": b})
        progs.append(p)

    # ---- density_peaks -------------------------------------------------------
    B, N, C = 4, 24, 16
    edge_len = [0, 1, 2, N]
    for name, k, cl in (("dpc_k3_c4", 3, 4), ("dpc_k1", 1, 4), ("dpc_k_gt_len", 50, 3),
                        ("dpc_clusters_gt_len", 5, 40), ("dpc_clusters1", 4, 1)):
        p = make_dpc("density_peaks", name, B, N, C, "f32", k, cl)
        p.add("mixture/len{0,1,2,N}", {"x": batch([mixture(rng, N, C, 4) for _ in range(B)]),
                                       "lengths": edge_len})
        p.add("duplicates+all_equal+zero_rows/len{N,N,N,7}", {"x": batch([
            with_duplicates(rng, mixture(rng, N, C, 3), 6),
            np.tile(rng.standard_normal((1, C)), (N, 1)),
            np.where(rng.random((N, 1)) < 0.3, 0.0, mixture(rng, N, C, 3)),
            with_duplicates(rng, mixture(rng, N, C, 5), 10)]), "lengths": [N, N, N, 7]})
        p.add("lengths_out_of_range{-2,30,3,1}", {"x": batch([mixture(rng, N, C, 4) for _ in range(B)]),
                                                   "lengths": [-2, 30, 3, 1]})
        for r in range(R):
            p.add("random%d" % r, {"x": batch([mixture(rng, N, C, int(rng.integers(1, 7)))
                                               for _ in range(B)]),
                                   "lengths": rng.integers(0, N + 1, size=B)})
        progs.append(p)
    p = make_dpc("density_peaks", "dpc_bf16_k5_c6", 2, 40, 32, "bf16", 5, 6)
    for r in range(max(R, 2)):
        p.add("mixture%d" % r, {"x": batch([mixture(rng, 40, 32, 6) for _ in range(2)]),
                                "lengths": [40, int(rng.integers(10, 40))]})
    p.add("duplicates", {"x": batch([with_duplicates(rng, mixture(rng, 40, 32, 4), 12)
                                     for _ in range(2)]), "lengths": [40, 33]})
    progs.append(p)
    p = make_dpc("density_peaks", "dpc_f16_k7_nolengths", 3, 16, 8, "f16", 7, 3, lengths=False)
    for r in range(max(R, 2)):
        p.add("mixture%d" % r, {"x": batch([mixture(rng, 16, 8, 3) for _ in range(3)])})
    p.add("all_equal+duplicates", {"x": batch([np.full((16, 8), 0.5), with_duplicates(
        rng, mixture(rng, 16, 8, 2), 5), np.zeros((16, 8))])})
    progs.append(p)

    # ---- similarity_components ----------------------------------------------
    B, N, C = 4, 20, 16

    def specials(x, nz=2, nnan=1, ndup=2):
        x = with_duplicates(rng, x, ndup)
        idx = rng.choice(x.shape[0], nz + nnan, replace=False)
        x[idx[:nz]] = 0.0
        x[idx[nz:], 0] = np.nan
        return x

    for name, tau in (("comp_t0p9", 0.9), ("comp_t_neg1", -1.0), ("comp_t1", 1.0),
                      ("comp_t2", 2.0), ("comp_t0", 0.0)):
        p = make_comp("similarity_components", name, B, N, C, "f32", tau)
        if tau == 0.0:  # exact rows: cosines exactly 0 / +-1/2 / +-1
            p.add("exact_rows/len{0,1,2,N}", {"x": batch([exact_rows(rng, N, C) for _ in range(B)]),
                                              "lengths": edge_len})
            p.add("exact_rows+zero/len{N,N,N,13}", {"x": batch([
                np.where(rng.random((N, 1)) < 0.3, 0.0, exact_rows(rng, N, C)) for _ in range(B)]),
                "lengths": [N, N, N, 13]})
        else:
            p.add("clusters/len{0,1,2,N}", {"x": batch([directions(rng, N, C, 4, 0.2)
                                                        for _ in range(B)]), "lengths": edge_len})
            p.add("zero+nan+duplicates/len{N,N,15,N}", {"x": batch([
                specials(directions(rng, N, C, 3, 0.2)) for _ in range(B)]),
                "lengths": [N, N, 15, N]})
            p.add("lengths_out_of_range{-1,25,5,N}", {"x": batch([directions(rng, N, C, 5, 0.2)
                                                                  for _ in range(B)]),
                                                       "lengths": [-1, 25, 5, N]})
            if tau == 1.0:  # exact duplicates: fp32 cos is exactly 1, not > 1
                p.add("exact_duplicates", {"x": batch([with_duplicates(rng, exact_rows(rng, N, C), 8)
                                                       for _ in range(B)]), "lengths": [N] * B})
        for r in range(R):
            p.add("random%d" % r, {"x": batch([directions(rng, N, C, int(rng.integers(1, 8)), 0.3)
                                               for _ in range(B)]),
                                   "lengths": rng.integers(0, N + 1, size=B)})
        progs.append(p)
    p = make_comp("similarity_components", "comp_bf16_t0p95", 2, 49, 32, "bf16", 0.95)
    for r in range(max(R, 2)):
        p.add("clusters%d" % r, {"x": batch([directions(rng, 49, 32, 6, 0.1) for _ in range(2)]),
                                 "lengths": [49, int(rng.integers(1, 49))]})
    progs.append(p)
    p = make_comp("similarity_components", "comp_f16_t0p8_nolengths", 3, 16, 8, "f16", 0.8,
                  lengths=False)
    for r in range(max(R, 2)):
        p.add("clusters%d" % r, {"x": batch([specials(directions(rng, 16, 8, 3, 0.3))
                                             for _ in range(3)])})
    progs.append(p)

    # ---- plan -> scatter_merge(mean) ----------------------------------------
    p = make_dpc("pipelines", "dpc_merge_f32", 3, 32, 24, "f32", 5, 5, merge=True)
    for r in range(max(R, 2)):
        p.add("mixture%d" % r, {"x": batch([mixture(rng, 32, 24, 5) for _ in range(3)]),
                                "lengths": [32, 0, int(rng.integers(1, 32))]})
    progs.append(p)
    p = make_dpc("pipelines", "dpc_merge_bf16", 2, 24, 16, "bf16", 3, 4, merge=True)
    p.add("duplicates", {"x": batch([with_duplicates(rng, mixture(rng, 24, 16, 4), 6)
                                     for _ in range(2)]), "lengths": [24, 17]})
    progs.append(p)
    p = make_comp("pipelines", "comp_merge_f32", 3, 32, 24, "f32", 0.9, merge=True)
    for r in range(max(R, 2)):
        p.add("clusters%d" % r, {"x": batch([directions(rng, 32, 24, 6, 0.15) for _ in range(3)]),
                                 "lengths": [32, 2, int(rng.integers(1, 32))]})
    progs.append(p)
    p = make_comp("pipelines", "comp_merge_f16", 2, 24, 16, "f16", 0.95, merge=True)
    p.add("clusters+specials", {"x": batch([specials(directions(rng, 24, 16, 4, 0.1))
                                            for _ in range(2)]), "lengths": [24, 20]})
    progs.append(p)

    # ---- batch 1 (B = 1) -----------------------------------------------------
    # A batch of one gives 1-element batch loops (and grid axes under the GPU
    # mapping). Built last so that the draws of the cases above do not shift.
    shape = (1, 9, 33)
    p = make_cosine("row_cosine", "cos_r3_bf16_b1", shape, "bf16")
    for r in range(R):
        a = rng.standard_normal(shape).astype(np.float32)
        b = (0.7 * a + 0.7 * rng.standard_normal(shape)).astype(np.float32)
        p.add("random%d" % r, {"lhs": a, "rhs": b})
    a = rng.standard_normal(shape).astype(np.float32)
    b = rng.standard_normal(shape).astype(np.float32)
    b[0, 0] = a[0, 0]     # identical: 1
    b[0, 1] = -a[0, 1]    # opposite: -1
    a[0, 2] = 0.0         # zero lhs: 0
    b[0, 3] = 0.0         # zero rhs: 0
    a[0, 5, 0] = np.nan   # NaN lhs: NaN
    p.add("special(same,opposite,zero,nan)", {"lhs": a, "rhs": b})
    progs.append(p)

    N, C = 24, 16
    p = make_dpc("density_peaks", "dpc_k3_c4_b1", 1, N, C, "f32", 3, 4)
    p.add("mixture/len{N}", {"x": batch([mixture(rng, N, C, 4)]), "lengths": [N]})
    p.add("duplicates/len{7}", {"x": batch([with_duplicates(rng, mixture(rng, N, C, 5), 10)]),
                                "lengths": [7]})
    p.add("all_equal/len{N}", {"x": batch([np.tile(rng.standard_normal((1, C)), (N, 1))]),
                               "lengths": [N]})
    p.add("len{0}", {"x": batch([mixture(rng, N, C, 4)]), "lengths": [0]})
    for r in range(R):
        p.add("random%d" % r, {"x": batch([mixture(rng, N, C, int(rng.integers(1, 7)))]),
                               "lengths": rng.integers(0, N + 1, size=1)})
    progs.append(p)

    N = 20
    p = make_comp("similarity_components", "comp_t0p9_b1", 1, N, C, "f32", 0.9)
    p.add("clusters/len{N}", {"x": batch([directions(rng, N, C, 4, 0.2)]), "lengths": [N]})
    p.add("zero+nan+duplicates/len{15}", {"x": batch([specials(directions(rng, N, C, 3, 0.2))]),
                                          "lengths": [15]})
    p.add("len{0}", {"x": batch([directions(rng, N, C, 5, 0.2)]), "lengths": [0]})
    for r in range(R):
        p.add("random%d" % r, {"x": batch([directions(rng, N, C, int(rng.integers(1, 8)), 0.3)]),
                               "lengths": rng.integers(0, N + 1, size=1)})
    progs.append(p)

    p = make_dpc("pipelines", "dpc_merge_f32_b1", 1, 32, 24, "f32", 5, 5, merge=True)
    for r in range(max(R, 2)):
        p.add("mixture%d" % r, {"x": batch([mixture(rng, 32, 24, 5)]),
                                "lengths": [(32, int(rng.integers(1, 32)))[r % 2]]})
    progs.append(p)
    p = make_comp("pipelines", "comp_merge_bf16_b1", 1, 24, 16, "bf16", 0.9, merge=True)
    for r in range(max(R, 2)):
        p.add("clusters%d" % r, {"x": batch([specials(directions(rng, 24, 16, 4, 0.15))]),
                                 "lengths": [(24, int(rng.integers(1, 24)))[r % 2]]})
    progs.append(p)
    return progs


# ---------------------------------------------------------------------------
# Recipes (examples/*.mlir)
# ---------------------------------------------------------------------------

EXAMPLES = os.path.join(ROOT, "examples")


def recipe_program(module, name, args, results, check):
    p = Program(module, name, args, results, None, check)
    p.source = os.path.join(EXAMPLES, module + ".mlir")
    return p


def _vals(raw, dt):
    return np.asarray(as_values(raw, dt), np.float32)


def video(rng, F, T, C, static_frac=0.0, tau_gap=None):
    """Frames of a video: position p is base[p] plus per-frame noise whose
    level varies by position (so temporal similarities spread over (-1, 1));
    a fraction of positions is static (small noise)."""
    base = rng.standard_normal((T, C))
    level = rng.uniform(0.05, 2.5, size=T)
    static = rng.random(T) < static_frac
    level[static] = rng.uniform(0.02, 0.2, size=int(static.sum()))
    x = base[None] + level[None, :, None] * rng.standard_normal((F, T, C))
    return x.astype(np.float32)


def dycoke_program():
    T, C, K = 196, 256, 58
    args = [("frames", (4, T, C), "bf16")]
    results = [("anchor_frames", (2, T, C), "bf16"), ("similarity", (2, T), "f32"),
               ("kept_indices", (2, K), "i32"), ("kept_count", (2,), "i32"),
               ("kept_tokens", (2, K, C), "bf16")]

    def check(inp, out):
        f = inp["frames"]
        c = [check_bits("anchor frames 0, 2 [bit-exact]", f[0::2], out["anchor_frames"], "bf16")]
        c += cosine_checks(f[0::2], f[1::2], out["similarity"], prefix="row_cosine: ")
        sim = np.asarray(out["similarity"], np.float32)
        ei, en = porc.select(-sim, ("top_k", K), K)
        c.append(check_exact("select: 58 least similar, ascending (on Winnow's similarity)",
                             ei, out["kept_indices"]))
        c.append(check_exact("select: count", en, out["kept_count"]))
        (ek,), _ = porc.compact(out["kept_indices"], out["kept_count"], [f[1::2]])
        c.append(check_bits("compact frames 1, 3", ek, out["kept_tokens"], "bf16"))
        # Independent of Winnow's similarity: the float64 ranking, where the
        # 58th and 59th least similar positions are not within tolerance.
        ref = orc.row_cosine(f[0::2], f[1::2])
        tol = orc.row_cosine_atol(C)
        rows = [b for b in range(2) if np.diff(np.sort(ref[b])[K - 1:K + 1])[0] > 2 * tol]
        oi, _ = porc.select(-ref[rows], ("top_k", K), K)
        c.append(check_exact("kept positions = float64 ranking (%d of 2 rows clear of ties)"
                             % len(rows), oi, np.asarray(out["kept_indices"])[rows]))
        print("# dycoke_ttm: kept %s of 196 positions in frames 1, 3; first kept %s" % (
            [int(v) for v in out["kept_count"]], np.asarray(out["kept_indices"])[:, :4].tolist()))
        return c

    return recipe_program("dycoke_ttm", "dycoke_ttm", args, results, check)


def holitom_program():
    F, T, C, TAU = 8, 196, 256, 0.8
    R = T + F * T
    args = [("frames", (F, T, C), "bf16")]
    results = [("similarity", (F - 1, T), "f32"), ("static", (T,), "i1"),
               ("parent", (1, F * T), "i32"), ("merged", (1, R, C), "bf16"),
               ("sizes", (1, R), "f32"), ("tokens", (1, R, C), "bf16"), ("count", (1,), "i32")]

    def check(inp, out):
        f = inp["frames"]
        c = cosine_checks(f[:-1], f[1:], out["similarity"], prefix="row_cosine: ")
        sim = np.asarray(out["similarity"], np.float32)
        with np.errstate(invalid="ignore"):
            est = (sim > np.float32(TAU)).all(axis=0)
        gst = np.asarray(out["static"]).astype(bool)
        c.append(check_exact("static = all(sim > 0.8) (on Winnow's similarity)", est, gst))
        ref = orc.row_cosine(f[:-1], f[1:]).min(axis=0)
        clear = np.abs(ref - TAU) > 2 * orc.row_cosine_atol(C)
        c.append(check_exact("static = float64 reference (%d of %d positions clear of tau)"
                             % (int(clear.sum()), T), (ref > TAU)[clear], gst[clear]))
        t, p = np.meshgrid(np.arange(F), np.arange(T), indexing="ij")
        ep = np.where(gst[None, :], p, T + t * T + p).reshape(1, F * T)
        c.append(check_exact("parent = static ? p : T + t*T + p", ep, out["parent"]))
        x2 = f.reshape(1, F * T, C)
        c += merge_checks(out["parent"], np.array([R]), [x2], ["bf16"], None, "mean", R,
                          [out["merged"]], out["sizes"], prefix="merge (on Winnow's plan): ")
        sz = np.asarray(out["sizes"], np.float32)
        ei, en = porc.select(sz, ("threshold", 0.5, "gt"), R)
        c.append(check_exact("select used rows: count", en, out["count"]))
        mv = _vals(out["merged"], "bf16")
        (et,), _ = porc.compact(ei, en, [mv])
        c.append(check_bits("compact used rows", et, out["tokens"], "bf16"))
        ns = int(gst.sum())
        c.append(check_exact("count = #static + F * #dynamic", ns + F * (T - ns), int(out["count"][0])))
        print("# holitom_static_merge: %d static positions of %d; %d tokens of %d" % (
            ns, T, int(out["count"][0]), F * T))
        return c

    return recipe_program("holitom_static_merge", "holitom_static_merge", args, results, check)


def scissor_program():
    F, T, C, TAU = 8, 196, 256, 0.95
    args = [("frames", (F, T, C), "bf16")]
    results = [("component", (F, T), "i32"), ("count", (F,), "i32"),
               ("merged", (F, T, C), "bf16"), ("sizes", (F, T), "f32")]

    def check(inp, out):
        c = comp_checks(inp["frames"], None, TAU, out["component"], out["count"],
                        prefix="components: ")
        c += merge_checks(out["component"], out["count"], [inp["frames"]], ["bf16"], None,
                          "mean", T, [out["merged"]], out["sizes"],
                          prefix="merge (on Winnow's plan): ")
        print("# llava_scissor: components per frame %s of %d" % (
            [int(v) for v in out["count"]], T))
        return c

    return recipe_program("llava_scissor", "llava_scissor", args, results, check)


def scissor_frames(rng, F, T, C):
    """Frames whose patches repeat a few dozen "contents" (cos > 0.95 within
    a content) plus unique patches; the number of contents differs per frame."""
    x = np.zeros((F, T, C))
    for f in range(F):
        nc = 10 + 6 * f
        d = rng.standard_normal((nc, C))
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        a = rng.integers(0, nc, size=T)
        x[f] = d[a] + 0.05 * rng.standard_normal((T, C)) / np.sqrt(C)
        uniq = rng.random(T) < 0.2
        x[f, uniq] = rng.standard_normal((int(uniq.sum()), C))
        x[f] *= rng.uniform(0.5, 3.0, size=(T, 1))
    return x.astype(np.float32)


def sparsevlm_program():
    H, R, d, N, C, KEEP, DROP, M = 8, 8, 64, 576, 256, 192, 384, 32
    args = [("rater_queries", (1, H, R, d), "bf16"), ("visual_keys", (1, H, N, d), "bf16"),
            ("rater_lse", (1, H, R), "f32"), ("hidden", (1, N, C), "bf16")]
    results = [("relevance", (1, N), "f32"), ("kept_indices", (1, KEEP), "i32"),
               ("kept_count", (1,), "i32"), ("pruned_indices", (1, DROP), "i32"),
               ("pruned_count", (1,), "i32"), ("cluster", (1, DROP), "i32"),
               ("clusters", (1,), "i32"), ("recycled", (1, M, C), "bf16"),
               ("cluster_sizes", (1, M), "f32"), ("tokens", (1, KEEP + M, C), "bf16")]

    def check(inp, out):
        ref = porc.attn_score(inp["rater_queries"], inp["visual_keys"], lse=inp["rater_lse"])
        c = [check_close("attn_score relevance (whole-row softmax; mean over heads and "
                         "raters)", ref, out["relevance"])]
        # The inputs tell SparseVLM's reading (the layer's softmax over the
        # whole row) from a softmax over the visual keys alone.
        alone = porc.attn_score(inp["rater_queries"], inp["visual_keys"])
        ak, _ = porc.select(alone.astype(np.float32), ("top_k", KEEP), KEEP)
        rk, _ = porc.select(ref.astype(np.float32), ("top_k", KEEP), KEEP)
        shared = len(set(ak[0].tolist()) & set(rk[0].tolist()))
        c.append(("a softmax over the visual keys alone keeps other tokens", shared < KEEP,
                  "it shares %d of %d kept tokens" % (shared, KEEP)))
        s = np.asarray(out["relevance"], np.float32)
        ki, kn = porc.select(s, ("top_k", KEEP), KEEP)
        c.append(check_exact("select keep 192 (on Winnow's relevance)", ki, out["kept_indices"]))
        c.append(check_exact("keep count", kn, out["kept_count"]))
        di, dn = porc.select(-s, ("top_k", DROP), DROP)
        c.append(check_exact("select pruned 384 = top-k of -relevance", di, out["pruned_indices"]))
        c.append(check_exact("pruned count", dn, out["pruned_count"]))
        both = sorted(np.asarray(out["kept_indices"])[0].tolist()
                      + np.asarray(out["pruned_indices"])[0].tolist())
        c.append(check_exact("kept and pruned partition the 576 tokens", list(range(N)), both))
        h = inp["hidden"]
        (ek,), _ = porc.compact(out["kept_indices"], out["kept_count"], [h])
        (ep,), _ = porc.compact(out["pruned_indices"], out["pruned_count"], [h])
        c += dpc_checks(ep, out["pruned_count"], 5, M, out["cluster"], out["clusters"],
                        prefix="density_peaks (on the pruned tokens): ")
        c += merge_checks(out["cluster"], out["clusters"], [ep], ["bf16"], None, "mean", M,
                          [out["recycled"]], out["cluster_sizes"],
                          prefix="recycle merge (on Winnow's plan): ")
        et = np.concatenate([ek, _vals(out["recycled"], "bf16")], axis=1)
        c.append(check_bits("tokens = concat(kept, recycled)", et, out["tokens"], "bf16"))
        print("# sparsevlm_recycle: kept %d, pruned %d -> %d recycled clusters, sizes %s" % (
            int(out["kept_count"][0]), int(out["pruned_count"][0]), int(out["clusters"][0]),
            sorted(int(v) for v in np.asarray(out["cluster_sizes"])[0])[::-1][:8]))
        return c

    return recipe_program("sparsevlm_recycle", "sparsevlm_recycle", args, results, check)


def sparsevlm_inputs(rng):
    H, R, d, N, C = 8, 8, 64, 576, 256
    SYSTEM, TEXT = 35, 40
    q = rng.standard_normal((1, H, R, d)).astype(np.float32)
    k = (1.5 * rng.standard_normal((1, H, N, d))).astype(np.float32)
    # The rest of the causal row: the system prompt, whose first token is an
    # attention sink of a different strength in every head, then the text;
    # rater r is text token 5 r + 4 and sees the text up to itself.
    qb = porc.bf16_bits_to_f32(porc.f32_to_bf16_bits(q)).astype(np.float64)
    kb = porc.bf16_bits_to_f32(porc.f32_to_bf16_bits(k)).astype(np.float64)
    system = rng.standard_normal((H, SYSTEM, d))
    qhat = qb[0] / np.linalg.norm(qb[0], axis=-1, keepdims=True)  # [H, R, d]
    sink = np.linspace(0.0, 9.0, H).reshape(H, 1)
    text = rng.standard_normal((H, TEXT, d))
    lse = np.zeros((1, H, R), np.float32)
    for h in range(H):
        for r in range(R):
            sys_keys = system[h].copy()
            sys_keys[0] += sink[h] * qhat[h, r] * np.sqrt(d) / 4
            keys = np.concatenate([sys_keys, kb[0, h], text[h, :5 * r + 5]])
            keys = porc.bf16_bits_to_f32(porc.f32_to_bf16_bits(
                keys.astype(np.float32))).astype(np.float64)
            sc = keys @ qb[0, h, r] / np.sqrt(d)
            m = sc.max()
            lse[0, h, r] = np.float32(m + np.log(np.exp(sc - m).sum()))
    # Hidden states: 40 "objects" of different tightness plus background.
    cent = 2.0 * rng.standard_normal((40, C))
    a = rng.integers(0, 40, size=N)
    tight = rng.uniform(0.2, 1.5, size=40)
    h = cent[a] + tight[a][:, None] * rng.standard_normal((N, C))
    return {"rater_queries": q, "visual_keys": k, "rater_lse": lse,
            "hidden": h[None].astype(np.float32)}


def build_recipes(rng):
    d = dycoke_program()
    d.add("video_window/motion_levels", {"frames": video(rng, 4, 196, 256)})
    h = holitom_program()
    h.add("video_segment/30%_static", {"frames": video(rng, 8, 196, 256, static_frac=0.3)})
    s = scissor_program()
    s.add("frames/contents{10..52}+20%_unique", {"frames": scissor_frames(rng, 8, 196, 256)})
    v = sparsevlm_program()
    v.add("llava15_576/objects40", sparsevlm_inputs(rng))
    return [d, h, s, v]


def main():
    ap = tool_args(__doc__.split("\n")[0])
    ap.add_argument("--recipes", action="store_true", help="check the examples/ recipes instead")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    if a.recipes:
        progs = build_recipes(rng)
    else:
        progs = build_corpus(rng, 1 if a.quick else 2)
    if a.filter:
        progs = [p for p in progs if a.filter in p.name]
    return run_programs(progs, a, "run_cluster_oracle.py")


if __name__ == "__main__":
    sys.exit(main())

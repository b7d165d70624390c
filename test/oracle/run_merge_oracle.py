#!/usr/bin/python3
"""End-to-end oracle tests for tok.bipartite_plan / tok.scatter_merge /
tok.weighted_gather.

Generates tok programs (several functions per module, one compile per
module), compiles them with winnow-compile, runs every case with winnow-run on
the CPU and compares with the independent NumPy reference in merge_oracle.py:

  * bipartite_plan: parent and count exactly, per batch row, except rows
    whose plan hinges on a near-tie of fp32 similarities (merge_oracle's
    ambiguity rule; counted in the check's label); on every row, also the
    ambiguous ones, the plan must be well formed (parents in [0, count), every
    output row used) and, with a fixed r, count = N - r' and the B tokens
    go to rows U, U + 1, ... in order;
  * scatter_merge: merged sizes exactly (integer sizes) or within the fp32
    sum bound; rows with one member bit-exact (a copy); amax exactly (as
    values, NaN == NaN); sum / mean / weighted_mean within the fp32
    accumulation bound plus one ulp of the element type; rows without a
    member, with a weight sum of 0, or past the count exactly 0;
  * weighted_gather: within the fp32 accumulation bound plus one ulp of the
    element type; rows without a valid index exactly 0; one-hot rows
    bit-exact copies;
  * in ToMe pipelines (plan -> scatter_merge -> log(size) -> un-merge with
    tok.compact) every stage is judged on the outputs Winnow gave the stage
    before: the merge on Winnow's plan, log within 2 ulp(f32), the un-merge
    bit-exactly.

Prints one line per check and a final `N passed, M failed`; exits 1 on any
failure. Run with Debian's /usr/bin/python3 (needs NumPy).

  run_merge_oracle.py --compile winnow-compile --run winnow-run --workdir DIR
                      [--seed S] [--quick] [--filter SUBSTR]
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import merge_oracle as orc  # noqa: E402
import prune_oracle as porc  # noqa: E402
from chunk_oracle import round_to, ulp  # noqa: E402
from run_chunk_oracle import (  # noqa: E402
    _sig, check_rounded, check_values_equal, run_programs, tool_args)
from run_prune_oracle import (  # noqa: E402
    Program, _Types, as_values, check_bits, check_exact, compact_op, fmt_f64,
    got_bits, to_bits)

I32_MIN, I32_MAX = -2 ** 31, 2 ** 31 - 1
LOG_ULPS = 2

# ---------------------------------------------------------------------------
# Op text
# ---------------------------------------------------------------------------


def plan_attrs(r=None, threshold=None, class_token=False, distill_token=False):
    attrs = []
    if r is not None:
        attrs.append("r = %d" % r)
    if threshold is not None:
        attrs.append("threshold = %s : f64" % fmt_f64(threshold))
    if class_token:
        attrs.append("class_token")
    if distill_token:
        attrs.append("distill_token")
    return attrs


def plan_op(parent, count, a, metric, **kw):
    t = a.types()
    return "%%%s, %%%s = tok.bipartite_plan %%%s {%s}" % (
        parent, count, metric, ", ".join(plan_attrs(**kw))) + _sig(t, [metric], [parent, count])


def merge_op(outs, osizes, a, parent, count, sources, sizes=None, reduction=None):
    t = a.types()
    ops = [parent, count] + list(sources) + ([sizes] if sizes else [])
    text = "%s = tok.scatter_merge %%%s, %%%s gather(%s)" % (
        ", ".join("%" + o for o in list(outs) + [osizes]), parent, count,
        ", ".join("%" + s for s in sources))
    if sizes:
        text += " sizes %" + sizes
    if reduction is not None:
        text += " {reduction = #tok.merge_reduction<%s>}" % reduction
    return text + _sig(t, ops, list(outs) + [osizes])


def log_op(out, a, x):
    return "%%%s = math.log %%%s : %s" % (out, x, a.types()[x])


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------


def exact_rows(metric):
    """Batch rows whose fp32 similarities are exact: entries in {-1, 0, 1}
    and squared norms in {0, 1, 4, 16, 64} (so 1 / norm is a power of 2)."""
    m = np.asarray(metric, np.float64)
    ok = []
    for row in m:
        n2 = np.sum(row * row, axis=1)
        ok.append(bool(np.isin(row, (-1.0, 0.0, 1.0)).all() and np.isin(n2, (0, 1, 4, 16, 64)).all()))
    return ok


def plan_checks(metric, kw, got_parent, got_count, prefix=""):
    """bipartite_plan against the oracle, row by row (see the module doc)."""
    ep, ec, infos = orc.bipartite_plan(metric, exact=exact_rows(metric), **kw)
    got_parent = np.asarray(got_parent).astype(np.int64)
    got_count = np.asarray(got_count).astype(np.int64)
    B, N = ep.shape
    amb = [b for b in range(B) if infos[b]["ambiguous"]]
    conflicts = [b for b in range(B) if infos[b].get("conflict")]
    ok_rows = [b for b in range(B) if b not in amb]
    checks = []
    for b in conflicts:
        print("# note: %srow %d: %s; Winnow gave parent %s, count %d" % (
            prefix, b, "; ".join(infos[b]["why"]), got_parent[b].tolist(), got_count[b]))
    for b in amb:
        if b not in conflicts:
            print("# %srow %d not compared: %s" % (prefix, b, "; ".join(infos[b]["why"][:3])))
    skip = " (%d of %d rows near-tie/ambiguous, not compared)" % (len(amb), B) if amb else ""
    if kw.get("threshold") is None:
        checks.append(check_exact(prefix + "count", ec, got_count))
    else:
        checks.append(check_exact(prefix + "count" + skip, ec[ok_rows], got_count[ok_rows]))
    checks.append(check_exact(prefix + "parent" + skip, ep[ok_rows], got_parent[ok_rows]))
    # Well-formedness on every row (ambiguous ones included).
    bad = []
    for b in range(B):
        c = int(got_count[b])
        rows = got_parent[b]
        if c < 0 or c > N or (rows < 0).any() or (rows >= c).any() or \
                len(set(rows.tolist())) != c:
            bad.append(b)
    checks.append(("%splan well formed (parents in [0, count), every row used)" % prefix, not bad,
                   "rows %s: parent %s, count %s" % (bad, got_parent[bad[0]].tolist() if bad else "",
                                                     got_count[bad[0]] if bad else "")))
    if kw.get("threshold") is None:
        n_prot = int(kw.get("class_token", False)) + int(kw.get("distill_token", False))
        r_eff = orc.effective_r(N, kw["r"], n_prot, kw.get("distill_token", False))
        if r_eff > 0 and N > 1:
            U = (N + 1) // 2 - r_eff
            exp_b = np.tile(U + np.arange(N // 2), (B, 1))
            checks.append(check_exact(prefix + "B tokens -> rows U + j (all rows)", exp_b,
                                      got_parent[:, 1::2]))
    return checks


def merge_checks(parent, count, sources, dts, sizes, reduction, C, got_merged, got_sizes,
                 prefix="", src_bits=None):
    """scatter_merge against the oracle. sources: decoded values; got_*: raw."""
    red = reduction or "weighted_mean"
    merged, bounds, single, ms, sb = orc.scatter_merge(parent, count, sources, sizes, red, C)
    B = np.asarray(parent).shape[0]
    checks = []
    integral = sizes is None or np.all(np.asarray(sizes) == np.round(np.asarray(sizes)))
    if integral:
        checks.append(check_values_equal(prefix + "merged sizes (exact)", ms,
                                         np.asarray(got_sizes, np.float64)))
    else:
        checks.append(check_rounded(prefix + "merged sizes (fp32 sums)", ms[..., None], sb,
                                    np.asarray(got_sizes, np.float64)[..., None], "f32"))
    mem = orc.members(parent, count, C)
    for s, (src, dt, ref, bnd, got) in enumerate(zip(sources, dts, merged, bounds, got_merged)):
        tag = "%ssource %d (%s, rank %d) %s" % (prefix, s, dt, np.ndim(src), red)
        gv = np.asarray(as_values(got, dt), np.float64).reshape(B, C, -1)
        rf = ref.reshape(B, C, -1)
        # Single-member rows: the input row, bit for bit.
        gb = got_bits(got, dt).reshape(B, C, -1)
        ib = (src_bits[s] if src_bits is not None else to_bits(src, dt)).reshape(B, np.shape(src)[1], -1)
        exp_b, got_b = [], []
        for b in range(B):
            for j in range(C):
                if single[b, j]:
                    exp_b.append(ib[b, mem[b][j][0]])
                    got_b.append(gb[b, j])
        nsingle = len(exp_b)
        if nsingle:
            checks.append(check_exact(tag + ": %d single-member rows [bit-exact copies]" % nsingle,
                                      np.array(exp_b), np.array(got_b)))
        if red == "amax":
            checks.append(check_values_equal(tag + " (values, NaN == NaN)", rf, gv))
        else:
            checks.append(check_rounded(tag, rf, bnd, gv, dt))
    return checks


# ---------------------------------------------------------------------------
# Program builders
# ---------------------------------------------------------------------------


def make_plan(module, name, B, N, Cm, dt, **kw):
    args = [("metric", (B, N, Cm), dt)]
    results = [("parent", (B, N), "i32"), ("count", (B,), "i32")]
    tt = _Types(args, results)
    body = [plan_op("parent", "count", tt, "metric", **kw)]

    def check(inp, out):
        return plan_checks(inp["metric"], kw, out["parent"], out["count"])

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, N=N, Cm=Cm, dt=dt, kw=kw)
    return p


def make_merge(module, name, B, N, C, srcs, reduction=None, sizes=False):
    """srcs: list of (trailing shape, dtype)."""
    args = [("parent", (B, N), "i32"), ("count", (B,), "i32")]
    names = []
    for s, (tail, dt) in enumerate(srcs):
        names.append("x%d" % s)
        args.append(("x%d" % s, (B, N) + tuple(tail), dt))
    if sizes:
        args.append(("sizes", (B, N), "f32"))
    results = [("m%d" % s, (B, C) + tuple(tail), dt) for s, (tail, dt) in enumerate(srcs)]
    results.append(("msizes", (B, C), "f32"))
    tt = _Types(args, results)
    body = [merge_op(["m%d" % s for s in range(len(srcs))], "msizes", tt, "parent", "count",
                     names, "sizes" if sizes else None, reduction)]
    dts = [dt for _, dt in srcs]

    def check(inp, out):
        return merge_checks(inp["parent"], inp["count"], [inp[n] for n in names], dts,
                            inp.get("sizes"), reduction, C,
                            [out["m%d" % s] for s in range(len(srcs))], out["msizes"])

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, N=N, C=C, srcs=srcs, sizes=sizes, reduction=reduction)
    return p


def make_weighted_gather(module, name, B, N, M, K, D, dt):
    """tok.weighted_gather of x [B, N, D] with K weighted entries per output row."""
    args = [("indices", (B, M, K), "i32"), ("weights", (B, M, K), "f32"), ("x", (B, N, D), dt)]
    results = [("y", (B, M, D), dt)]
    tt = _Types(args, results)
    body = ["%y = tok.weighted_gather %indices, %weights gather(%x)" +
            _sig(tt.types(), ["indices", "weights", "x"], ["y"])]

    def check(inp, out):
        x = round_to(inp["x"], dt)
        ref, bound, one_hot = orc.weighted_gather(inp["indices"], inp["weights"], x)
        got = np.asarray(as_values(out["y"], dt), np.float64)
        checks = [check_rounded("y (%s)" % dt, ref, bound, got, dt)]
        if one_hot.any():
            checks.append(check_exact("y one-hot rows (%d) [bit-exact copies]" % one_hot.sum(),
                                      to_bits(ref[one_hot], dt), got_bits(out["y"], dt)[one_hot]))
        return checks

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, N=N, M=M, K=K, D=D, dt=dt)
    return p


def weighted_gather_inputs(rng, meta, kind):
    """indices in [-1, N] (out-of-range ones skipped), weights, x; `kind` shapes the rows."""
    B, N, M, K, D = (meta[k] for k in ("B", "N", "M", "K", "D"))
    idx = rng.integers(-1, N + 1, size=(B, M, K)).astype(np.int64)
    w = rng.standard_normal((B, M, K)).astype(np.float32)
    x = rng.standard_normal((B, N, D)).astype(np.float32)
    if kind == "edges":
        idx[0, 0] = -1                  # no valid entry: a zero row
        w[0, 0] = np.nan                # ... whatever the weights
        idx[0, 1] = [N - 1] + [-1] * (K - 1)
        w[0, 1] = [1.0] + [np.nan] * (K - 1)   # one-hot: an exact copy
        idx[B - 1, M - 1] = [2] * K     # one token K times
        w[B - 1, M - 1] = 1.0 / K
        x[0, N - 1, 0] = -0.0
    return {"indices": idx, "weights": w, "x": x}


def make_tome(module, name, B, N, Cm, D, dt, mdt, reduction=None, sizes=False, pos=False, **kw):
    """plan -> scatter_merge (x, optional f32 positions [B, N]) -> log(size)
    -> un-merge of x through the same plan (tok.compact %parent, %all)."""
    C = orc.plan_capacity(N, **kw)
    args = [("metric", (B, N, Cm), mdt), ("x", (B, N, D), dt)]
    if pos:
        args.append(("pos", (B, N), "f32"))
    if sizes:
        args.append(("sizes", (B, N), "f32"))
    args.append(("all", (B,), "i32"))
    results = [("parent", (B, N), "i32"), ("count", (B,), "i32"), ("x2", (B, C, D), dt)]
    if pos:
        results.append(("pos2", (B, C), "f32"))
    results += [("size2", (B, C), "f32"), ("bias", (B, C), "f32"), ("xu", (B, N, D), dt),
                ("map", (B, C), "i32")]
    tt = _Types(args, results)
    srcs = ["x"] + (["pos"] if pos else [])
    outs = ["x2"] + (["pos2"] if pos else [])
    body = [plan_op("parent", "count", tt, "metric", **kw),
            merge_op(outs, "size2", tt, "parent", "count", srcs, "sizes" if sizes else None,
                     reduction),
            log_op("bias", tt, "size2"),
            compact_op(["xu"], "map", tt, "parent", "all", ["x2"])]

    def check(inp, out):
        c = plan_checks(inp["metric"], kw, out["parent"], out["count"], prefix="plan: ")
        gp, gc = out["parent"], out["count"]
        c += merge_checks(gp, gc, [inp[s] for s in srcs], [dt, "f32"][:len(srcs)],
                          inp.get("sizes"), reduction, C, [out[o] for o in outs], out["size2"],
                          prefix="merge (on Winnow's plan): ")
        gs = np.asarray(out["size2"], np.float64)
        with np.errstate(divide="ignore"):
            ref = np.log(gs)
        got = np.asarray(out["bias"], np.float64)
        tol = LOG_ULPS * ulp(ref, "f32")
        fin = np.isfinite(ref)
        with np.errstate(invalid="ignore"):
            bad = np.where(fin, ~(np.abs(got - ref) <= tol), ~(got == ref))
        c.append(("log(size) key bias (within %d ulp(f32); log 0 = -inf)" % LOG_ULPS,
                  not bad.any(), "first bad at %s: ref %r got %r" % (
                      tuple(np.argwhere(bad)[0]), ref[tuple(np.argwhere(bad)[0])],
                      got[tuple(np.argwhere(bad)[0])]) if bad.any() else ""))
        x2 = as_values(out["x2"], dt).astype(np.float32)
        exp = orc.unmerge(gp, x2, N)
        c.append(check_bits("un-merge = compact(parent, N) gather(x2)", exp, out["xu"], dt))
        (_,), emap = porc.compact(gp, np.full((B,), N, np.int32), [x2])
        c.append(check_exact("un-merge old_to_new", emap, out["map"]))
        # Un-merge of an unmerged token returns it bit-exactly.
        single = orc.scatter_merge(gp, gc, [], None, "sum", C)[2]
        ib = to_bits(inp["x"], dt)
        ub = got_bits(out["xu"], dt)
        idx = [(b, i) for b in range(B) for i in range(N)
               if 0 <= gp[b, i] < min(max(int(gc[b]), 0), C) and single[b, gp[b, i]]]
        if idx:
            c.append(check_exact("un-merge of %d unmerged tokens == input [bit-exact]" % len(idx),
                                 np.array([ib[b, i] for b, i in idx]),
                                 np.array([ub[b, i] for b, i in idx])))
        return c

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, N=N, Cm=Cm, D=D, dt=dt, mdt=mdt, C=C, kw=kw, sizes=sizes, pos=pos)
    return p


# ---------------------------------------------------------------------------
# Input generators
# ---------------------------------------------------------------------------

EXACT_VECS = None


def _exact_vecs():
    global EXACT_VECS
    if EXACT_VECS is None:
        v = []
        for k in range(4):
            for sgn in (1, -1):
                e = np.zeros(4)
                e[k] = sgn
                v.append(e)
        for bits in range(16):
            v.append(np.array([1 if bits >> k & 1 else -1 for k in range(4)], float))
        EXACT_VECS = np.array(v)
    return EXACT_VECS


def metric_row(rng, N, Cm, kind):
    """One [N, Cm] metric row of a given kind (see the corpus)."""
    m = rng.standard_normal((N, Cm))
    if kind == "random":
        return m
    if kind == "all_equal":
        return np.tile(rng.standard_normal(Cm), (N, 1))
    if kind == "all_zero":
        return np.zeros((N, Cm))
    if kind == "zeros":
        m[::3] = 0.0
        return m
    if kind == "nan":
        for t in (2, 5):
            if t < N:
                m[t, t % Cm] = np.nan
        return m
    if kind == "nan_many":       # every A token from token 4 on is NaN
        m[4::2] = np.nan
        return m
    if kind == "dup":            # exact ties: dst (A token 2 = B tokens 3, 5), rank (4 = 6)
        if N >= 6:
            m[3] = m[2]
            m[5] = m[2]
        if N >= 7:
            m[6] = m[4]
        if N >= 9:
            m[8] = m[0]
        return m
    if kind == "exact":          # +-1 entries, norms 1 or 2: every similarity exact in fp32
        V = _exact_vecs()
        m = np.zeros((N, Cm))
        m[:, :min(4, Cm)] = V[rng.integers(0, len(V), size=N)][:, :min(4, Cm)]
        m[rng.random(N) < 0.1] = 0.0
        return m
    raise ValueError(kind)


def metric_case(rng, B, N, Cm, kinds):
    return np.stack([metric_row(rng, N, Cm, kinds[b % len(kinds)])
                     for b in range(B)]).astype(np.float32)


PLAN_CASES = [
    ("random", ["random"]),
    ("equal/zero/zeros/dup", ["all_equal", "all_zero", "zeros", "dup"]),
    ("nan/exact/nan_many/random", ["nan", "exact", "nan_many", "random"]),
    ("exact", ["exact"]),
]


def hand_parents(rng, B, N, C, kind):
    if kind == "random":
        return rng.integers(-2, C + 2, size=(B, N))
    if kind == "identity":
        return np.tile(np.arange(N), (B, 1))
    if kind == "all_to_0":
        return np.zeros((B, N), np.int64)
    if kind == "tome":     # a real plan: the oracle's ToMe plan of a random metric
        r = max(1, N - C)
        p, _, _ = orc.bipartite_plan(rng.standard_normal((B, N, 4)), r=r)
        return p
    raise ValueError(kind)


def merge_inputs(rng, p, parent, count, sizes_kind="int", specials=False, large=False):
    m = p.meta
    B, N = m["B"], m["N"]
    d = {"parent": np.asarray(parent, np.int64), "count": np.asarray(count, np.int64)}
    for s, (tail, dt) in enumerate(m["srcs"]):
        x = rng.standard_normal((B, N) + tuple(tail)).astype(np.float32)
        if large:
            x = (rng.random(x.shape) * 1000 + 30000).astype(np.float32)
        if specials:
            flat = x.reshape(B, N, -1)
            flat[0, 0, 0] = np.nan
            flat[1 % B, 1, 0] = np.inf
            flat[2 % B, 2, 0] = -np.inf
            flat[3 % B, 3, 0] = -0.0
            flat[0, 4, 0] = -0.0
        d["x%d" % s] = x
    if m["sizes"]:
        if sizes_kind == "int":
            w = rng.integers(1, 5, size=(B, N)).astype(np.float32)
        elif sizes_kind == "frac":
            w = (rng.random((B, N)) * 3 + 0.05).astype(np.float32)
        elif sizes_kind == "zeros":   # every weight of row 0 (batch 0) zero, others random
            w = rng.integers(1, 5, size=(B, N)).astype(np.float32)
            w[0] = 0.0
            w[1 % B, ::2] = 0.0
        else:
            raise ValueError(sizes_kind)
        d["sizes"] = w
    return d


def add_merge_cases(p, rng, R):
    m = p.meta
    B, N, C = m["B"], m["N"], m["C"]
    red = m["reduction"] or "weighted_mean"
    cnt = lambda v: np.array((v * B)[:B], np.int64)  # noqa: E731
    p.add("tome_plan/count=C", merge_inputs(rng, p, hand_parents(rng, B, N, C, "tome"), cnt([C])))
    p.add("random_parents{-2..C+1}/count{C,C+3,-1,2}",
          merge_inputs(rng, p, hand_parents(rng, B, N, C, "random"), cnt([C, C + 3, -1, 2])))
    p.add("count{INT32_MAX,INT32_MIN,0,1}",
          merge_inputs(rng, p, hand_parents(rng, B, N, C, "random"), cnt([I32_MAX, I32_MIN, 0, 1])))
    p.add("identity_parents(single rows bit-exact, specials)",
          merge_inputs(rng, p, hand_parents(rng, B, N, C, "identity"), cnt([C]), specials=True))
    p.add("all_to_row_0", merge_inputs(rng, p, hand_parents(rng, B, N, C, "all_to_0"), cnt([C, 1])))
    p.add("random_parents+specials(NaN/inf/-0)",
          merge_inputs(rng, p, hand_parents(rng, B, N, C, "random"), cnt([C]), specials=True))
    if m["sizes"]:
        p.add("fractional_sizes", merge_inputs(rng, p, hand_parents(rng, B, N, C, "random"),
                                               cnt([C]), "frac"))
        p.add("zero_sizes(weight sum 0 -> 0)",
              merge_inputs(rng, p, hand_parents(rng, B, N, C, "all_to_0"), cnt([C]), "zeros"))
        p.add("zero_sizes_random_parents",
              merge_inputs(rng, p, hand_parents(rng, B, N, C, "random"), cnt([C]), "zeros"))
    if any(dt == "f16" for _, dt in m["srcs"]) and red in ("sum", "mean", "weighted_mean"):
        p.add("f16_large(sum past 65504%s)" % (": inf" if red == "sum" else ", mean finite"),
              merge_inputs(rng, p, hand_parents(rng, B, N, C, "all_to_0"), cnt([C]), large=True))
    for r in range(R):
        p.add("random%d" % r, merge_inputs(rng, p, hand_parents(rng, B, N, C, "random"),
                                           cnt([C, C - 1, C + 1, 3])))


def tome_inputs(rng, p, kinds, sizes_kind="int"):
    m = p.meta
    B, N, Cm, D = m["B"], m["N"], m["Cm"], m["D"]
    d = {"metric": metric_case(rng, B, N, Cm, kinds), "x": rng.standard_normal((B, N, D)).astype(np.float32),
         "all": np.full((B,), N, np.int64)}
    if m["pos"]:
        d["pos"] = np.tile(np.arange(N, dtype=np.float32), (B, 1))
    if m["sizes"]:
        d["sizes"] = (rng.integers(1, 6, size=(B, N)) if sizes_kind == "int"
                      else rng.random((B, N)) * 3 + 0.1).astype(np.float32)
    return d


# ---------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------


def build_corpus(rng, n_random):
    progs = []
    R = n_random

    # ---- tok.bipartite_plan -----------------------------------------------------
    plan_cfgs = [
        # name, B, N, Cm, dt, attributes
        ("plan_f32_N7_r2_cls", 4, 7, 2, "f32", dict(r=2, class_token=True)),
        ("plan_f32_N8_r3", 4, 8, 4, "f32", dict(r=3)),
        ("plan_f32_N9_r100_clamped", 4, 9, 4, "f32", dict(r=100)),
        ("plan_f32_N9_r0", 4, 9, 4, "f32", dict(r=0)),
        ("plan_f32_N6_rneg3", 4, 6, 4, "f32", dict(r=-3)),
        ("plan_f32_N1_r1", 4, 1, 4, "f32", dict(r=1)),
        ("plan_f32_N2_r1", 4, 2, 4, "f32", dict(r=1)),
        ("plan_bf16_N2_r3_cls_identity", 4, 2, 4, "bf16", dict(r=3, class_token=True)),
        ("plan_bf16_N11_r3_dist", 4, 11, 8, "bf16", dict(r=3, distill_token=True)),
        ("plan_bf16_N12_r9_cls_dist_clamped", 4, 12, 8, "bf16",
         dict(r=9, class_token=True, distill_token=True)),
        ("plan_f32_N3_r1_dist", 4, 3, 4, "f32", dict(r=1, distill_token=True)),
        ("plan_f32_N4_r1_dist", 4, 4, 4, "f32", dict(r=1, distill_token=True)),
        ("plan_f32_N64_r32_all_A", 4, 64, 16, "f32", dict(r=32)),
        ("plan_f32_N197_r16_cls", 2, 197, 64, "f32", dict(r=16, class_token=True)),
        ("plan_bf16_N197_r16", 2, 197, 64, "bf16", dict(r=16)),
        ("thr_f32_N8_0.5", 4, 8, 4, "f32", dict(threshold=0.5)),
        ("thr_f32_N9_0.5_cls", 4, 9, 4, "f32", dict(threshold=0.5, class_token=True)),
        ("thr_bf16_N10_0.25_dist", 4, 10, 4, "bf16", dict(threshold=0.25, distill_token=True)),
        ("thr_f32_N7_none(2.0)", 4, 7, 4, "f32", dict(threshold=2.0)),
        ("thr_f32_N7_all(-2.0)", 4, 7, 4, "f32", dict(threshold=-2.0)),
        ("thr_f32_N7_all_cls_dist", 4, 7, 4, "f32",
         dict(threshold=-2.0, class_token=True, distill_token=True)),
        ("thr_f32_N33_0.3", 4, 33, 16, "f32", dict(threshold=0.3)),
        ("plan_f16_N13_r4_cls", 4, 13, 8, "f16", dict(r=4, class_token=True)),
        ("thr_f16_N9_0.5", 4, 9, 4, "f16", dict(threshold=0.5)),
        ("plan_f16_N197_r16_cls_dist", 2, 197, 64, "f16",
         dict(r=16, class_token=True, distill_token=True)),
        # enough A tokens (64 x 65) that the GPU form gives each a warp,
        # not a block
        ("plan_f32_B64_N130_r8_cls_warps", 64, 130, 8, "f32", dict(r=8, class_token=True)),
    ]
    def add_plans(cfgs, cases=PLAN_CASES):
        for nm, B, N, Cm, dt, kw in cfgs:
            safe = nm.replace(".", "p").replace("(", "_").replace(")", "").replace("-", "m")
            p = make_plan("plan_f16" if dt == "f16" else "plan", safe, B, N, Cm, dt, **kw)
            for cname, kinds in cases:
                p.add(cname, {"metric": metric_case(rng, B, N, Cm, kinds)})
            for r in range(R):
                p.add("random%d" % r, {"metric": metric_case(rng, B, N, Cm, ["random"])})
            progs.append(p)

    add_plans(plan_cfgs)

    # ---- tok.scatter_merge with hand-made plans ---------------------------------
    merge_cfgs = [
        # name, B, N, C, sources, reduction, sizes
        ("sm_f32_sum", 4, 9, 5, [((3,), "f32")], "sum", False),
        ("sm_f32_mean_sizes", 4, 9, 5, [((3,), "f32")], "mean", True),
        ("sm_f32_wmean_sizes_C6", 4, 9, 6, [((3,), "f32")], "weighted_mean", True),
        ("sm_f32_default_no_sizes", 4, 9, 5, [((3,), "f32")], None, False),
        ("sm_f32_amax_sizes", 4, 9, 5, [((3,), "f32")], "amax", True),
        ("sm_bf16_bundle_wmean", 4, 9, 5, [((), "bf16"), ((3,), "bf16"), ((2, 3), "f32")],
         None, True),
        ("sm_bf16_sum_C11", 4, 9, 11, [((4,), "bf16")], "sum", False),
        ("sm_bf16_amax_rank4", 4, 9, 5, [((2, 2), "bf16")], "amax", False),
        ("sm_f32_sizes_only", 4, 9, 5, [], "sum", True),
        ("sm_f32_long_mean_N64", 2, 64, 8, [((16,), "f32")], "mean", False),
        # a row of 600 tokens: the GPU inverts it with 768 threads, one per
        # token and per output row
        ("sm_f32_sum_N600_C300", 2, 600, 300, [((4,), "f32")], "sum", True),
        ("sm_f16_mean", 4, 9, 5, [((3,), "f16")], "mean", False),
        ("sm_f16_sum", 4, 9, 5, [((3,), "f16")], "sum", False),
        ("sm_f16_wmean_rank2_rank4", 4, 9, 5, [((), "f16"), ((2, 3), "f16")], None, True),
    ]
    def add_merges(cfgs):
        for nm, B, N, C, srcs, red, sz in cfgs:
            mod = "merge_f16" if any(dt == "f16" for _, dt in srcs) else "merge"
            p = make_merge(mod, nm, B, N, C, srcs, red, sz)
            add_merge_cases(p, rng, R)
            progs.append(p)

    add_merges(merge_cfgs)

    # ---- ToMe pipelines: plan -> merge -> log(size) -> un-merge -----------------
    tome_cfgs = [
        # name, B, N, Cm, D, x dtype, metric dtype, reduction, sizes, positions, plan
        ("tome_f32_N7_r2_cls", 2, 7, 2, 3, "f32", "f32", None, False, False,
         dict(r=2, class_token=True)),
        ("tome_bf16_N16_r5_dist_sizes", 3, 16, 8, 8, "bf16", "bf16", None, True, True,
         dict(r=5, distill_token=True)),
        ("tome_f32_N12_thr0p5_cls_sizes", 4, 12, 4, 4, "f32", "f32", None, True, False,
         dict(threshold=0.5, class_token=True)),
        ("tome_bf16_N9_r0_identity_sum", 2, 9, 4, 4, "bf16", "f32", "sum", False, False,
         dict(r=0)),
        ("tome_f32_N33_r40_amax", 2, 33, 8, 5, "f32", "bf16", "amax", True, True, dict(r=40)),
    ]
    def add_tomes(cfgs):
        for nm, B, N, Cm, D, dt, mdt, red, sz, pos, kw in cfgs:
            p = make_tome("tome", nm, B, N, Cm, D, dt, mdt, red, sz, pos, **kw)
            for cname, kinds in (("random", ["random"]),
                                 ("dup/zeros/nan/exact", ["dup", "zeros", "nan", "exact"]),
                                 ("exact", ["exact"])):
                p.add(cname, tome_inputs(rng, p, kinds))
            if sz:
                p.add("fractional_sizes", tome_inputs(rng, p, ["random"], "frac"))
            progs.append(p)

    add_tomes(tome_cfgs)

    # ---- batch 1 (B = 1) --------------------------------------------------------
    # A batch of one gives 1-element batch loops (and grid axes under the GPU
    # mapping). Built last so that the draws of the cases above do not shift.
    # With one row a multi-kind case checks only its first kind: one kind a case.
    add_plans([
        ("plan_f32_N9_r3_cls_b1", 1, 9, 4, "f32", dict(r=3, class_token=True)),
        ("thr_bf16_N10_0p25_dist_b1", 1, 10, 4, "bf16", dict(threshold=0.25, distill_token=True)),
    ], [(k, [k]) for k in ("random", "all_equal", "zeros", "dup", "nan", "nan_many", "exact")])
    add_merges([
        ("sm_f32_wmean_sizes_b1", 1, 9, 5, [((3,), "f32")], None, True),
        ("sm_bf16_amax_b1", 1, 9, 5, [((2, 2), "bf16")], "amax", False),
    ])
    add_tomes([
        ("tome_bf16_N16_r5_cls_sizes_b1", 1, 16, 8, 8, "bf16", "bf16", None, True, True,
         dict(r=5, class_token=True)),
    ])

    # ---- tok.weighted_gather (a sparse many-to-many transform) -------------------
    # Built last so that the draws of the cases above do not shift.
    for nm, B, N, M, K, D, dt in [("wg_f32", 3, 10, 4, 3, 5, "f32"),
                                  ("wg_bf16", 2, 12, 6, 4, 8, "bf16"),
                                  ("wg_f16_b1", 1, 9, 3, 5, 4, "f16")]:
        p = make_weighted_gather("weighted_gather", nm, B, N, M, K, D, dt)
        p.add("edges", weighted_gather_inputs(rng, p.meta, "edges"))
        for i in range(R):
            p.add("random%d" % i, weighted_gather_inputs(rng, p.meta, "random"))
        progs.append(p)

    return progs


def main():
    a = tool_args(__doc__.split("\n")[0]).parse_args()
    rng = np.random.default_rng(a.seed)
    progs = build_corpus(rng, 1 if a.quick else 2)
    if a.filter:
        progs = [p for p in progs if a.filter in p.name]
    return run_programs(progs, a, "run_merge_oracle.py")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""End-to-end oracle tests for tok.kv_select / tok.kv_gather / tok.k_center.

Generates tok programs (several functions per module, one compile per
module), compiles them with winnow-compile, runs every case with winnow-run on
the CPU and compares with the independent NumPy reference in kv_oracle.py:

  * kv_select: slots and counts exactly;
  * kv_gather: positions exactly, gathered rows bit for bit (f32, f16, bf16
    and i32 caches of rank 3, 4 and 5);
  * k_center: counts and the -1 padding exactly; the index set exactly,
    except where the float64 oracle sees a near-tie between the running
    maxima (two different values within 1e-6, 1e-5 for D = 1024) -- there
    either choice is accepted (kv_oracle.k_center_verify). Deliberate exact
    ties (duplicate, scaled-duplicate, all-equal, zero and orthogonal rows)
    must follow the lower-index rule;
  * pipelines (SepLLM mask from token ids with arith.cmpi / arith.ori ->
    kv_select -> kv_gather; ToDRE select -> k_center -> compact; FasterVLM
    attn_score -> select -> compact) check every stage on the outputs
    Winnow gave the stage before (tok.attn_score / select / compact with
    prune_oracle.py).

With --recipes, compiles and checks the five KV / diversity recipes in
examples/ (streamingllm_evict, h2o_heavy_hitters, sepllm_separators,
todre_kcenter, fastervlm_cls) instead of the generated corpus.

Prints one line per check and a final `N passed, M failed`; exits 1 on any
failure. Run with Debian's /usr/bin/python3 (needs NumPy).

  run_kv_oracle.py --compile winnow-compile --run winnow-run --workdir DIR
                   [--seed S] [--quick] [--filter SUBSTR] [--recipes]
"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import kv_oracle as orc  # noqa: E402
import prune_oracle as porc  # noqa: E402
from run_chunk_oracle import _sig, run_programs, tool_args  # noqa: E402
from run_prune_oracle import (  # noqa: E402
    Program, _Types, check_bits, check_close, check_exact, compact_op,
    select_op)

NAN, INF = float("nan"), float("inf")
KC_TOL_LARGE_D = 1e-5  # near-tie margin for D = 1024 fp32 dot products

# ---------------------------------------------------------------------------
# Op text
# ---------------------------------------------------------------------------


def kv_select_op(slots, cnt, a, lengths, scores=None, seps=None, attrs=None,
                 row_budget=None):
    t = a.types()
    ops = [lengths]
    text = "%%%s, %%%s = tok.kv_select %%%s" % (slots, cnt, lengths)
    if scores:
        text += " scores %" + scores
        ops.append(scores)
    if seps:
        text += " separators %" + seps
        ops.append(seps)
    if row_budget:
        text += " row_budget %" + row_budget
        ops.append(row_budget)
    if attrs:
        text += " {" + ", ".join("%s = %d" % kv for kv in attrs.items()) + "}"
    return text + _sig(t, ops, [slots, cnt])


def kv_gather_op(outs, pos, a, slots, cnt, caches, mode=None):
    t = a.types()
    text = "%s%%%s = tok.kv_gather %%%s, %%%s gather(%s)" % (
        "".join("%" + o + ", " for o in outs), pos, slots, cnt,
        ", ".join("%" + c for c in caches))
    if mode is not None:
        text += " {position_mode = #tok.position_mode<%s>}" % mode
    return text + _sig(t, [slots, cnt] + list(caches), list(outs) + [pos])


def k_center_op(idx, cnt, a, x, k, lengths=None, first=None):
    t = a.types()
    ops = [x]
    text = "%%%s, %%%s = tok.k_center %%%s" % (idx, cnt, x)
    for kw, v in (("lengths", lengths), ("first", first)):
        if v:
            text += " %s %%%s" % (kw, v)
            ops.append(v)
    text += " {k = %d}" % k
    return text + _sig(t, ops, [idx, cnt])


# ---------------------------------------------------------------------------
# Checks shared by the corpus and the recipes
# ---------------------------------------------------------------------------


def select_checks(inp, out, T, H, C, attrs, scores="scores", seps="separators",
                  lengths="lengths", slots="slots", count="count", sep_values=None,
                  prefix=""):
    sv = sep_values if sep_values is not None else inp.get(seps)
    es, ec = orc.kv_select(inp[lengths], T, H, C, inp.get(scores), sv,
                           attrs.get("sinks", 0), attrs.get("window", 0),
                           attrs.get("heavy", 0), inp.get("row_budget"))
    return [check_exact(prefix + "count", ec, out[count]),
            check_exact(prefix + "slots", es, out[slots])]


def gather_checks(slots, count, caches, outs, mode, positions, prefix=""):
    """caches: [(values, dt)], outs: raw gathered arrays."""
    eg, ep = orc.kv_gather(slots, count, [c for c, _ in caches], mode)
    checks = [check_exact(prefix + "positions (%s)" % mode, ep, positions)]
    for i, ((_, dt), e, g) in enumerate(zip(caches, eg, outs)):
        checks.append(check_bits(prefix + "gathered cache %d" % i, e, g, dt))
    return checks


def kcenter_check(what, x, k, C, lengths, first, got_idx, got_cnt, tol):
    ok, detail, near = orc.k_center_verify(x, k, C, lengths, first, got_idx, got_cnt, tol)
    label = what
    if ok:
        label += " [%s]" % ("exact greedy order" if near == 0 else
                            "%d near-tie(s) within %g" % (near, tol))
    return (label, ok, detail)


# ---------------------------------------------------------------------------
# Program builders
# ---------------------------------------------------------------------------


def make_kv_select(module, name, B, H, T, attrs, scores=True, seps=False, capacity=None,
                   row_budget=False):
    if capacity is None:
        capacity = orc.kv_select_min_capacity(T, attrs.get("sinks", 0), attrs.get("window", 0),
                                              attrs.get("heavy", 0), seps)
    args = [("lengths", (B,), "i32")]
    if scores:
        args.append(("scores", (B, H, T), "f32"))
    if seps:
        args.append(("separators", (B, T), "i1"))
    if row_budget:
        args.append(("row_budget", (B, 3), "i32"))
    results = [("slots", (B, H, capacity), "i32"), ("count", (B, H), "i32")]
    tt = _Types(args, results)
    body = [kv_select_op("slots", "count", tt, "lengths", "scores" if scores else None,
                         "separators" if seps else None, attrs,
                         "row_budget" if row_budget else None)]

    def check(inp, out):
        return select_checks(inp, out, T, H, capacity, attrs)

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, H=H, T=T, C=capacity, attrs=attrs, scores=scores, seps=seps,
                  row_budget=row_budget)
    return p


def make_kv_gather(module, name, B, H, T, C, caches, mode):
    """caches: [(name, tail shape, dtype)]; mode None = the default (original)."""
    args = [("slots", (B, H, C), "i32"), ("count", (B, H), "i32")]
    args += [(n, (B, H, T) + tuple(tail), dt) for n, tail, dt in caches]
    results = [("g_" + n, (B, H, C) + tuple(tail), dt) for n, tail, dt in caches]
    results.append(("positions", (B, H, C), "i32"))
    tt = _Types(args, results)
    body = [kv_gather_op(["g_" + c[0] for c in caches], "positions", tt, "slots", "count",
                         [c[0] for c in caches], mode)]

    def check(inp, out):
        return gather_checks(inp["slots"], inp["count"],
                             [(inp[n], dt) for n, _, dt in caches],
                             [out["g_" + n] for n, _, _ in caches],
                             mode or "original", out["positions"])

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, H=H, T=T, C=C, caches=caches)
    return p


def make_k_center(module, name, B, N, D, dt, k, C=None, lengths=False, first=False,
                  tol=orc.KC_TIE_TOL):
    if C is None:
        C = max(min(max(k, 0), N), 1)
    args = [("x", (B, N, D), dt)]
    if lengths:
        args.append(("lengths", (B,), "i32"))
    if first:
        args.append(("first", (B,), "i32"))
    results = [("indices", (B, C), "i32"), ("count", (B,), "i32")]
    tt = _Types(args, results)
    body = [k_center_op("indices", "count", tt, "x", k, "lengths" if lengths else None,
                        "first" if first else None)]

    def check(inp, out):
        return [check_exact("count", orc.k_center(inp["x"], k, C, inp.get("lengths"),
                                                  inp.get("first"))[1], out["count"]),
                kcenter_check("indices", inp["x"], k, C, inp.get("lengths"), inp.get("first"),
                              out["indices"], out["count"], tol)]

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, N=N, D=D, dt=dt, k=k, C=C)
    return p


def make_select_gather(module, name, B, H, T, d, attrs, dt, mode, rank5=False):
    """kv_select (scores) -> kv_gather of K and V (the H2O / StreamingLLM flow)."""
    C = orc.kv_select_min_capacity(T, attrs.get("sinks", 0), attrs.get("window", 0),
                                   attrs.get("heavy", 0), False)
    tail = (2, d) if rank5 else (d,)
    args = [("lengths", (B,), "i32"), ("scores", (B, H, T), "f32"),
            ("k", (B, H, T) + tail, dt), ("v", (B, H, T) + tail, dt)]
    results = [("slots", (B, H, C), "i32"), ("count", (B, H), "i32"),
               ("k2", (B, H, C) + tail, dt), ("v2", (B, H, C) + tail, dt),
               ("positions", (B, H, C), "i32")]
    tt = _Types(args, results)
    body = [kv_select_op("slots", "count", tt, "lengths", "scores", None, attrs),
            kv_gather_op(["k2", "v2"], "positions", tt, "slots", "count", ["k", "v"], mode)]

    def check(inp, out):
        c = select_checks(inp, out, T, H, C, attrs)
        c += gather_checks(out["slots"], out["count"], [(inp["k"], dt), (inp["v"], dt)],
                           [out["k2"], out["v2"]], mode, out["positions"],
                           "(on Winnow's slots) ")
        return c

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, H=H, T=T, d=d, C=C, dt=dt, tail=tail)
    return p


def sep_mask_body(ids, sep_ids, shape, out="sep"):
    """arith.cmpi eq per separator id, OR-ed together (elementwise on tensors)."""
    it = "tensor<%dx%dxi32>" % shape
    bt = "tensor<%dx%dxi1>" % shape
    lines = []
    for i, s in enumerate(sep_ids):
        lines.append("%%sid%d = arith.constant dense<%d> : %s" % (i, s, it))
        lines.append("%%eq%d = arith.cmpi eq, %%%s, %%sid%d : %s" % (i, ids, i, it))
    acc = "eq0"
    for i in range(1, len(sep_ids)):
        nxt = out if i == len(sep_ids) - 1 else "or%d" % i
        lines.append("%%%s = arith.ori %%%s, %%eq%d : %s" % (nxt, acc, i, bt))
        acc = nxt
    if len(sep_ids) == 1:
        lines.append("%%%s = arith.ori %%eq0, %%eq0 : %s" % (out, bt))
    return lines


def make_sep_pipeline(module, name, B, H, T, d, sep_ids, attrs, dt, mode, scores):
    """SepLLM: token ids -> separator mask -> kv_select -> kv_gather."""
    C = T
    args = [("ids", (B, T), "i32"), ("lengths", (B,), "i32")]
    if scores:
        args.append(("scores", (B, H, T), "f32"))
    args += [("k", (B, H, T, d), dt), ("v", (B, H, T, d), dt)]
    results = [("sep", (B, T), "i1"), ("slots", (B, H, C), "i32"), ("count", (B, H), "i32"),
               ("k2", (B, H, C, d), dt), ("v2", (B, H, C, d), dt), ("positions", (B, H, C), "i32")]
    tt = _Types(args, results)
    body = sep_mask_body("ids", sep_ids, (B, T))
    body += [kv_select_op("slots", "count", tt, "lengths", "scores" if scores else None,
                          "sep", attrs),
             kv_gather_op(["k2", "v2"], "positions", tt, "slots", "count", ["k", "v"], mode)]

    def check(inp, out):
        esep = np.isin(inp["ids"], sep_ids)
        c = [check_exact("separator mask (arith.cmpi/ori)", esep, out["sep"].astype(bool))]
        c += select_checks(inp, out, T, H, C, attrs, sep_values=esep)
        c += gather_checks(out["slots"], out["count"], [(inp["k"], dt), (inp["v"], dt)],
                           [out["k2"], out["v2"]], mode, out["positions"],
                           "(on Winnow's slots) ")
        return c

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, H=H, T=T, d=d, dt=dt)
    return p


def make_kcenter_pipeline(module, name, B, N, D, dt, k):
    """ToDRE: CLS scores -> select top_k<1> -> k_center first -> compact."""
    args = [("cls", (B, N), "f32"), ("x", (B, N, D), dt)]
    results = [("seed", (B, 1), "i32"), ("seed_count", (B,), "i32"), ("first", (B,), "i32"),
               ("indices", (B, k), "i32"), ("count", (B,), "i32"),
               ("kept", (B, k, D), dt), ("old_to_new", (B, N), "i32")]
    tt = _Types(args, results)
    body = [select_op("seed", "seed_count", tt, "cls", ("top_k", 1)),
            "%%first = tensor.collapse_shape %%seed [[0, 1]] : tensor<%dx1xi32> into tensor<%dxi32>"
            % (B, B),
            k_center_op("indices", "count", tt, "x", k, None, "first"),
            compact_op(["kept"], "old_to_new", tt, "indices", "count", ["x"])]

    def check(inp, out):
        return kcenter_chain_checks(inp["cls"], inp["x"], k, dt, out, orc.KC_TIE_TOL)

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, N=N, D=D, dt=dt, k=k)
    return p


def kcenter_chain_checks(cls, x, k, dt, out, tol):
    ei, ec = porc.select(cls, ("top_k", 1), 1)
    c = [check_exact("seed (select top_k<1>)", ei, out["seed"])]
    if "seed_count" in out:
        c.append(check_exact("seed count", ec, out["seed_count"]))
    if "first" in out:
        c.append(check_exact("first = collapse_shape(seed)", ei[:, 0], out["first"]))
    first = np.asarray(out["seed"])[:, 0]
    C = out["indices"].shape[1]
    c.append(check_exact("count (k_center)", orc.k_center(x, k, C, None, first)[1], out["count"]))
    c.append(kcenter_check("indices (k_center seeded with Winnow's seed)", x, k, C, None, first,
                           out["indices"], out["count"], tol))
    (eg,), om = porc.compact(out["indices"], out["count"], [x])
    c.append(check_bits("kept rows (compact on Winnow's indices)", eg, out["kept"], dt))
    c.append(check_exact("old_to_new", om, out["old_to_new"]))
    return c


# ---------------------------------------------------------------------------
# Input generators
# ---------------------------------------------------------------------------


def rand_cache(rng, shape, dt, specials=False):
    x = rng.standard_normal(shape).astype(np.float32)
    if dt == "i32":
        return rng.integers(-1000, 1000, size=shape).astype(np.int32)
    if specials:
        flat = x.reshape(-1)
        n = flat.size
        for v in (-0.0, INF, -INF, 65504.0, 1e-40):
            flat[int(rng.integers(0, n))] = v
    return x


def lengths_edge(B, T, sinks, window):
    base = [0, 1, max(min(sinks + window, T) - 1, 0), T, -7, T + 9, sinks + window, T - 1]
    return np.array([base[i % len(base)] for i in range(B)], np.int32)


def scores_special(rng, B, H, T, kind):
    s = rng.standard_normal((B, H, T)).astype(np.float32)
    if kind == "equal":
        s[:] = 0.25
    elif kind == "quantized":   # many ties straddling the heavy boundary
        s = np.round(s * 2).astype(np.float32) / 2
    elif kind == "nan_zero":    # NaN, +-0.0, +-inf sprinkled
        flat = s.reshape(-1)
        for i in rng.choice(flat.size, size=flat.size // 3, replace=False):
            flat[i] = rng.choice([NAN, 0.0, -0.0, INF, -INF])
    elif kind == "all_nan":
        s[:] = NAN
    elif kind == "adjacent":    # adjacent floats, same high bits everywhere
        base = np.float32(1.5)
        steps = rng.integers(0, 64, size=s.shape).astype(np.int64)
        s = (np.float32(base).view(np.int32) + steps).astype(np.int32).view(np.float32)
    elif kind == "negative":
        s = -np.abs(s) - 1e-3
    elif kind == "tiny":        # denormals and zeros of both signs
        s = (s * 1e-39).astype(np.float32)
        s[..., ::5] = -0.0
    return s.astype(np.float32)


def add_select_cases(p, rng, nrand):
    m = p.meta
    B, H, T, a = m["B"], m["H"], m["T"], m["attrs"]
    sinks, window = a.get("sinks", 0), a.get("window", 0)

    def inputs(lengths, kind="random", seps=None):
        d = {"lengths": np.asarray(lengths, np.int32)}
        if m["scores"]:
            d["scores"] = scores_special(rng, B, H, T, kind)
        if m["seps"]:
            if seps is None:
                seps = rng.random((B, T)) < 0.15
            d["separators"] = seps
        if m.get("row_budget"):
            # Each request's own (sinks, window, heavy): negative, zero, the
            # maximum and above it.
            most = [a.get("sinks", 0), a.get("window", 0), a.get("heavy", 0)]
            d["row_budget"] = np.array(
                [[rng.choice([-2, 0, v // 2, v, v + 5]) for v in most] for _ in range(B)],
                np.int32)
        return d

    p.add("lengths_edge", inputs(lengths_edge(B, T, sinks, window)))
    p.add("lengths_clamped", inputs(np.array([(-3, T + 100, -(2 ** 31), 2 ** 31 - 1)[i % 4]
                                              for i in range(B)], np.int32)))
    full = np.full(B, T, np.int32)
    for kind in ("equal", "quantized", "nan_zero", "adjacent", "negative", "tiny", "all_nan"):
        if m["scores"] or kind == "equal":
            p.add("scores_%s" % kind, inputs(full if kind != "quantized" else
                                             rng.integers(0, T + 1, size=B).astype(np.int32),
                                             kind))
    if m["seps"]:
        s = np.zeros((B, T), bool)
        s[:, :sinks + 1] = True           # inside the sinks
        s[:, T - 2 * window - 2:] = True  # in the window and (short rows) in padding
        s[:, T // 3] = True
        p.add("separators_in_sinks_window_padding",
              inputs(np.array([T - window // 2 - 3, T, T // 2, 1][:B] + [T] * max(0, B - 4),
                              np.int32), seps=s))
        p.add("all_separators", inputs(lengths_edge(B, T, sinks, window), seps=np.ones((B, T), bool)))
    for i in range(nrand):
        p.add("random%d" % i, inputs(rng.integers(-2, T + 3, size=B).astype(np.int32)))


def gather_inputs(rng, m, kind):
    B, H, T, C = m["B"], m["H"], m["T"], m["C"]
    d = {}
    for n, tail, dt in m["caches"]:
        d[n] = rand_cache(rng, (B, H, T) + tuple(tail), dt, specials=True)
    if kind == "handmade":
        slots = np.full((B, H, C), -1, np.int32)
        count = np.zeros((B, H), np.int32)
        pat = [3, -1, T, T + 5, 0, T - 1, -(2 ** 31), 2 ** 31 - 1, 1, 1, 2]
        for b in range(B):
            for h in range(H):
                slots[b, h] = [pat[(j + b + h) % len(pat)] for j in range(C)]
        counts = [C + 3, -2, 0, C, C - 1, 1, 2 ** 31 - 1, -(2 ** 31)]
        for i in range(B * H):
            count.reshape(-1)[i] = counts[i % len(counts)]
    else:  # a valid selection per head (ascending), random counts
        slots = np.full((B, H, C), -1, np.int32)
        count = np.zeros((B, H), np.int32)
        for b in range(B):
            for h in range(H):
                n = int(rng.integers(0, min(C, T) + 1))
                slots[b, h, :n] = np.sort(rng.choice(T, size=n, replace=False))
                count[b, h] = n
    d["slots"], d["count"] = slots, count
    return d


def kc_random(rng, B, N, D, clusters=0):
    if clusters:
        centers = rng.standard_normal((B, clusters, D)) * 3
        lab = rng.integers(0, clusters, size=(B, N))
        x = np.take_along_axis(centers, lab[..., None], axis=1) + rng.standard_normal((B, N, D))
    else:
        x = rng.standard_normal((B, N, D))
    return x.astype(np.float32)


def add_kcenter_cases(p, rng, nrand):
    m = p.meta
    B, N, D = m["B"], m["N"], m["D"]
    has_len = any(a[0] == "lengths" for a in p.args)
    has_first = any(a[0] == "first" for a in p.args)

    def inputs(x, lengths=None, first=None):
        d = {"x": x}
        if has_len:
            d["lengths"] = (np.asarray(lengths, np.int32) if lengths is not None
                            else np.full(B, N, np.int32))
        if has_first:
            d["first"] = (np.asarray(first, np.int32) if first is not None
                          else rng.integers(0, N, size=B).astype(np.int32))
        return d

    def cyc(vals):
        return np.array([vals[i % len(vals)] for i in range(B)], np.int32)

    x = kc_random(rng, B, N, D)
    if has_len:
        xp = x.copy()
        ln = cyc([0, 1, N, -3, N + 5, max(N // 2, 2), -(2 ** 31), 2 ** 31 - 1])
        for b in range(B):
            xp[b, min(max(int(ln[b]), 0), N):] = NAN  # padding rows are ignored
        p.add("lengths_edge_nan_padding", inputs(xp, ln))
    if has_first:
        p.add("first_out_of_range", inputs(x, cyc([N - 2, N + 3, N]) if has_len else None,
                                           cyc([-7, N + 3, N - 1, 2 ** 31 - 1])))
    # exact ties: duplicates (incl. scaled by 2), zero rows, all equal, one-hot
    xd = x.copy()
    for b in range(B):
        xd[b, N - 1] = xd[b, 1]
        xd[b, N // 2] = 2 * xd[b, 1]
        xd[b, 2] = xd[b, 0]
        xd[b, 3] = 0
        if N > 6:
            xd[b, 5] = 0
    p.add("duplicate_and_zero_rows", inputs(xd))
    p.add("all_equal_rows", inputs(np.broadcast_to(x[:, :1], x.shape).copy()))
    p.add("all_zero_rows", inputs(np.zeros_like(x)))
    oh = np.zeros_like(x)
    for b in range(B):
        for j in range(N):
            oh[b, j, (j * 3 + b) % D] = (-1.0) ** j * (1 + j % 3)
    p.add("one_hot_rows", inputs(oh))
    xn = x.copy()
    xn[:, 1::4, 0] = NAN  # a NaN row never wins; enough other rows remain
    p.add("nan_rows", inputs(xn, first=cyc([0, 2, 4])))
    for i in range(nrand):
        p.add("random%d" % i, inputs(kc_random(rng, B, N, D, clusters=int(rng.integers(0, 6)))))


# ---------------------------------------------------------------------------
# The generated corpus
# ---------------------------------------------------------------------------


def build_corpus(rng, nrand):
    progs = []

    # -- kv_select ---------------------------------------------------------
    m = "kv_select"
    sel = [
        make_kv_select(m, "sel_h2o_sinks_window_heavy", 4, 3, 24, dict(sinks=2, window=3, heavy=4)),
        make_kv_select(m, "sel_plain_window", 3, 2, 17, dict(window=5)),          # sinks = 0
        make_kv_select(m, "sel_sinks_heavy_no_window", 3, 2, 16, dict(sinks=3, heavy=6)),
        make_kv_select(m, "sel_stream_sinks_window", 4, 1, 40, dict(sinks=4, window=7, heavy=0)),
        make_kv_select(m, "sel_heavy_only_big_capacity", 2, 4, 12, dict(heavy=5), capacity=15),
        make_kv_select(m, "sel_heavy_exceeds_candidates", 4, 2, 9, dict(sinks=1, window=2, heavy=50)),
        make_kv_select(m, "sel_sep_scores", 4, 3, 32, dict(sinks=2, window=4, heavy=3), seps=True),
        make_kv_select(m, "sel_sep_only_heads_equal", 4, 3, 30, dict(sinks=3, window=5),
                       scores=False, seps=True),
        make_kv_select(m, "sel_sep_nothing_else", 2, 1, 10, {}, scores=False, seps=True),
        # per-request budgets: StreamingLLM's closed form, H2O, with separators
        make_kv_select(m, "sel_row_budget_stream", 6, 2, 40, dict(sinks=4, window=9, cache_size=40),
                       scores=False, row_budget=True),
        make_kv_select(m, "sel_row_budget_h2o", 6, 3, 32, dict(sinks=2, window=5, heavy=6),
                       row_budget=True),
        make_kv_select(m, "sel_row_budget_sep", 5, 2, 30, dict(sinks=2, window=4, heavy=3),
                       seps=True, row_budget=True),
        # radix-select stress: long cache, large heavy budget
        make_kv_select(m, "sel_long_histogram", 2, 3, 3000, dict(sinks=4, window=64, heavy=900)),
        # rows past the GPU form's shared-memory keys (8192 slots): a device
        # buffer of keys, with and without whole 16-byte vectors of them
        make_kv_select(m, "sel_keys_in_device_memory", 1, 2, 9216, dict(sinks=4, window=100, heavy=700)),
        make_kv_select(m, "sel_keys_in_device_memory_odd", 1, 1, 8203, dict(window=9, heavy=2051)),
    ]
    for p in sel:
        add_select_cases(p, rng, nrand)
    progs += sel

    # -- kv_gather ---------------------------------------------------------
    m = "kv_gather"
    gat = [
        make_kv_gather(m, "gather_rank4_original", 2, 3, 10, 6,
                       [("kf32", (4,), "f32"), ("kbf16", (4,), "bf16"), ("kf16", (3,), "f16")],
                       None),
        make_kv_gather(m, "gather_rank4_reindexed", 2, 3, 10, 6,
                       [("k", (5,), "bf16"), ("v", (5,), "bf16")], "reindexed"),
        make_kv_gather(m, "gather_rank3_capacity_over_T", 2, 2, 7, 9,
                       [("acc", (), "f32"), ("tok", (), "i32")], "reindexed"),
        make_kv_gather(m, "gather_rank5_original", 2, 2, 8, 5,
                       [("kv", (2, 3), "f16"), ("kvb", (2, 3), "bf16")], "original"),
        # positions only: without a cache there is no T, only negative slots are bad
        make_kv_gather(m, "gather_no_cache_original", 2, 3, 10, 6, [], "original"),
        make_kv_gather(m, "gather_no_cache_reindexed", 2, 3, 10, 6, [], "reindexed"),
    ]
    for p in gat:
        p.add("handmade_bad_slots_counts", gather_inputs(rng, p.meta, "handmade"))
        for i in range(max(nrand, 1)):
            p.add("random%d" % i, gather_inputs(rng, p.meta, "random"))
    progs += gat

    # -- k_center ----------------------------------------------------------
    m = "k_center"
    kc = [
        make_k_center(m, "kc_f32_lengths_first", 6, 12, 5, "f32", 4, lengths=True, first=True),
        make_k_center(m, "kc_bf16_plain", 3, 40, 16, "bf16", 8),
        make_k_center(m, "kc_f16_k_ge_len", 3, 13, 7, "f16", 13, lengths=True),
        make_k_center(m, "kc_f32_k_over_N", 2, 9, 3, "f32", 20, C=9, first=True),
        make_k_center(m, "kc_k0", 2, 8, 4, "f32", 0, C=2, lengths=True),
        make_k_center(m, "kc_k1_first", 3, 8, 4, "bf16", 1, first=True),
        make_k_center(m, "kc_f32_larger", 2, 200, 64, "f32", 24, C=30, lengths=True, first=True),
        make_k_center(m, "kc_k_huge", 8, 7, 3, "f16", 2 ** 40, C=7, lengths=True, first=True),
    ]
    for p in kc:
        add_kcenter_cases(p, rng, nrand)
    # NaN rows beyond the non-NaN candidates: NaN ranks with -inf, lowest index
    nanfill = kc[3]
    x = kc_random(rng, 2, 9, 3)
    x[:, 3:, 1] = NAN
    nanfill.add("nan_rows_fill_lowest", {"x": x, "first": np.array([0, 2], np.int32)})
    progs += kc

    # -- pipelines ---------------------------------------------------------
    m = "kv_pipelines"
    pipes = [
        make_select_gather(m, "h2o_select_gather_f16", 3, 4, 48, 24,
                           dict(window=6, heavy=5), "f16", "original"),
        make_select_gather(m, "stream_select_gather_bf16_rank5", 2, 2, 40, 4,
                           dict(sinks=4, window=9), "bf16", "reindexed", rank5=True),
        make_sep_pipeline(m, "sepllm_ids_three_separators", 2, 2, 64, 4, [13, 29889, 29892],
                          dict(sinks=2, window=6), "bf16", "original", scores=False),
        make_sep_pipeline(m, "sepllm_ids_two_separators_heavy", 3, 3, 40, 4, [11, 13],
                          dict(sinks=1, window=4, heavy=3), "f32", "reindexed", scores=True),
        make_kcenter_pipeline(m, "todre_seed_kcenter_compact", 2, 48, 16, "bf16", 6),
    ]
    for p in pipes[:2]:
        mm = p.meta
        B, H, T = mm["B"], mm["H"], mm["T"]
        for ci, ln in enumerate([lengths_edge(B, T, 4, 9), rng.integers(0, T + 1, size=B)]):
            p.add("case%d" % ci, {"lengths": np.asarray(ln, np.int32),
                                  "scores": scores_special(rng, B, H, T,
                                                           ("quantized", "random")[ci]),
                                  "k": rand_cache(rng, (B, H, T) + mm["tail"], mm["dt"]),
                                  "v": rand_cache(rng, (B, H, T) + mm["tail"], mm["dt"])})
    for p, seps in ((pipes[2], [13, 29889, 29892]), (pipes[3], [11, 13])):
        mm = p.meta
        B, H, T, d = mm["B"], mm["H"], mm["T"], mm["d"]
        for ci in range(2):
            ids = rng.integers(0, 32000, size=(B, T))
            mask = rng.random((B, T)) < 0.2
            ids[mask] = rng.choice(seps, size=int(mask.sum()))
            ids[:, 0] = seps[0]  # a separator inside the sinks
            ids[:, -1] = seps[-1]  # ... and in the window / padding
            inp = {"ids": ids.astype(np.int32),
                   "lengths": np.array([T, T // 2, 3][:B], np.int32) if ci == 0
                   else rng.integers(-1, T + 2, size=B).astype(np.int32),
                   "k": rand_cache(rng, (B, H, T, d), mm["dt"]),
                   "v": rand_cache(rng, (B, H, T, d), mm["dt"])}
            if any(a[0] == "scores" for a in p.args):
                inp["scores"] = scores_special(rng, B, H, T, "random")
            p.add("case%d" % ci, inp)
    tp = pipes[4]
    for ci in range(2):
        cls = rng.random((2, 48)).astype(np.float32)
        if ci == 1:
            cls[:] = 0.5  # all equal: seed 0 (lower index)
        tp.add("case%d" % ci, {"cls": cls, "x": kc_random(rng, 2, 48, 16, clusters=4)})
    progs += pipes

    # -- batch 1 (B = 1) ---------------------------------------------------
    # A batch of one gives 1-element batch loops (and grid axes under the GPU
    # mapping). Built last so that the draws of the cases above do not shift.
    p = make_kv_select("kv_select", "sel_h2o_sinks_window_heavy_b1", 1, 3, 24,
                       dict(sinks=2, window=3, heavy=4))
    add_select_cases(p, rng, nrand)
    p.add("lengths{T-5}", {"lengths": np.array([19], np.int32),
                           "scores": scores_special(rng, 1, 3, 24, "random")})
    progs.append(p)
    p = make_kv_gather("kv_gather", "gather_rank4_reindexed_b1", 1, 3, 10, 6,
                       [("k", (5,), "bf16"), ("v", (5,), "bf16")], "reindexed")
    p.add("handmade_bad_slots_counts", gather_inputs(rng, p.meta, "handmade"))
    for i in range(max(nrand, 1)):
        p.add("random%d" % i, gather_inputs(rng, p.meta, "random"))
    progs.append(p)
    p = make_k_center("k_center", "kc_f32_lengths_first_b1", 1, 12, 5, "f32", 4, lengths=True,
                      first=True)
    add_kcenter_cases(p, rng, nrand)
    progs.append(p)
    # Enough work per step (130 tokens x 512 features) for the CPU to split a
    # lone row's token passes into parts (kCenterParts: 4, of uneven
    # lengths); lengths below the part count leave parts empty.
    p = make_k_center("k_center", "kc_bf16_parts_b1", 1, 130, 512, "bf16", 24, lengths=True,
                      first=True)
    add_kcenter_cases(p, rng, nrand)
    for n in (1, 3, 67, 129):
        p.add("len%d" % n, {"x": kc_random(rng, 1, 130, 512),
                            "lengths": np.array([n], np.int32),
                            "first": rng.integers(0, n, size=1).astype(np.int32)})
    progs.append(p)
    p = make_select_gather("kv_pipelines", "h2o_select_gather_f16_b1", 1, 4, 48, 24,
                           dict(window=6, heavy=5), "f16", "original")
    mm = p.meta
    for ci, (ln, kind) in enumerate((([48], "quantized"), ([30], "random"), ([0], "random"))):
        p.add("case%d/len%s" % (ci, ln), {"lengths": np.asarray(ln, np.int32),
                                          "scores": scores_special(rng, 1, 4, 48, kind),
                                          "k": rand_cache(rng, (1, 4, 48) + mm["tail"], mm["dt"]),
                                          "v": rand_cache(rng, (1, 4, 48) + mm["tail"], mm["dt"])})
    progs.append(p)
    p = make_kcenter_pipeline("kv_pipelines", "todre_seed_kcenter_compact_b1", 1, 48, 16, "bf16", 6)
    for ci in range(2):
        cls = rng.random((1, 48)).astype(np.float32)
        if ci == 1:
            cls[:] = 0.5  # all equal: seed 0 (lower index)
        p.add("case%d" % ci, {"cls": cls, "x": kc_random(rng, 1, 48, 16, clusters=4)})
    progs.append(p)
    return progs


# ---------------------------------------------------------------------------
# Recipes (examples/*.mlir)
# ---------------------------------------------------------------------------


def recipe_program(module, file, name, args, results, check):
    p = Program(module, name, args, results, None, check)
    p.source = os.path.join(ROOT, "examples", file)
    return p


def attention_accumulator(rng, B, H, T, d, lengths, n_queries=64):
    """H2O's acc[b, h, j] = sum over the last queries of causal softmax rows."""
    acc = np.zeros((B, H, T), np.float64)
    for b in range(B):
        n = min(max(int(lengths[b]), 0), T)
        if n == 0:
            continue
        k = rng.standard_normal((H, n, d))
        k[:, rng.choice(n, size=max(n // 40, 1), replace=False)] *= 3.0  # heavy hitters
        k[:, 0] *= 4.0  # the attention sink
        for qpos in range(max(n - n_queries, 0), n):
            q = rng.standard_normal((H, d))
            s = np.einsum("hjd,hd->hj", k[:, :qpos + 1], q) / np.sqrt(d)
            s -= s.max(axis=1, keepdims=True)
            e = np.exp(s)
            acc[b, :, :qpos + 1] += e / e.sum(axis=1, keepdims=True)
    return acc.astype(np.float32)


def build_recipes(rng):
    progs = []

    # StreamingLLM: B=2, H=8, T=1024, d=64, sinks 4 + window 508 -> C=512
    B, H, T, d = 2, 8, 1024, 64
    args = [("lengths", (B,), "i32"), ("keys", (B, H, T, d), "bf16"),
            ("values", (B, H, T, d), "bf16")]
    results = [("slots", (B, H, 512), "i32"), ("count", (B, H), "i32"),
               ("kept_keys", (B, H, 512, d), "bf16"), ("kept_values", (B, H, 512, d), "bf16"),
               ("positions", (B, H, 512), "i32")]

    def check_stream(inp, out):
        attrs = dict(sinks=4, window=508)
        c = select_checks(dict(inp, scores=np.zeros((B, H, T), np.float32)), out, T, H, 512,
                          attrs)
        c += gather_checks(out["slots"], out["count"],
                           [(inp["keys"], "bf16"), (inp["values"], "bf16")],
                           [out["kept_keys"], out["kept_values"]], "reindexed",
                           out["positions"], "(on Winnow's slots) ")
        print("# streamingllm_evict: count[:, 0] = %s for lengths %s" % (
            out["count"][:, 0].tolist(), inp["lengths"].tolist()))
        return c

    st = recipe_program("streamingllm_evict", "streamingllm_evict.mlir", "streamingllm_evict",
                        args, results, check_stream)
    for ln in ([1024, 777], [300, 513]):
        st.add("lengths%s" % ln, {"lengths": np.array(ln, np.int32),
                                  "keys": rng.standard_normal((B, H, T, d)).astype(np.float32),
                                  "values": rng.standard_normal((B, H, T, d)).astype(np.float32)})
    progs.append(st)

    # H2O: B=2, H=8, T=1024, d=64, heavy 128 + recent 128 -> C=256, original positions
    args = [("lengths", (B,), "i32"), ("acc_scores", (B, H, T), "f32"),
            ("keys", (B, H, T, d), "f16"), ("values", (B, H, T, d), "f16")]
    results = [("slots", (B, H, 256), "i32"), ("count", (B, H), "i32"),
               ("kept_keys", (B, H, 256, d), "f16"), ("kept_values", (B, H, 256, d), "f16"),
               ("positions", (B, H, 256), "i32")]

    def check_h2o(inp, out):
        c = select_checks(inp, out, T, H, 256, dict(window=128, heavy=128), scores="acc_scores")
        c += gather_checks(out["slots"], out["count"],
                           [(inp["keys"], "f16"), (inp["values"], "f16")],
                           [out["kept_keys"], out["kept_values"]], "original",
                           out["positions"], "(on Winnow's slots) ")
        sl = out["slots"]
        differ = sum(not np.array_equal(sl[b, 0], sl[b, h]) for b in range(B) for h in range(H))
        c.append(("per-head selections differ (%d of %d heads differ from head 0)" % (
            differ, B * H), differ > 0, "every head kept the same slots"))
        return c

    h2o = recipe_program("h2o_heavy_hitters", "h2o_heavy_hitters.mlir", "h2o_heavy_hitters",
                         args, results, check_h2o)
    for ln in ([1024, 600], [200, 1024]):
        h2o.add("lengths%s" % ln, {"lengths": np.array(ln, np.int32),
                                   "acc_scores": attention_accumulator(rng, B, H, T, d, ln),
                                   "keys": rng.standard_normal((B, H, T, d)).astype(np.float32),
                                   "values": rng.standard_normal((B, H, T, d)).astype(np.float32)})
    progs.append(h2o)

    # SepLLM: B=2, H=8, T=1024, d=64; separators '.', ',', '\n' of LLaMA's vocabulary
    SEP = [29889, 29892, 13]
    args = [("token_ids", (B, T), "i32"), ("lengths", (B,), "i32"),
            ("keys", (B, H, T, d), "bf16"), ("values", (B, H, T, d), "bf16")]
    results = [("separators", (B, T), "i1"), ("slots", (B, H, T), "i32"), ("count", (B, H), "i32"),
               ("kept_keys", (B, H, T, d), "bf16"), ("kept_values", (B, H, T, d), "bf16"),
               ("positions", (B, H, T), "i32")]

    def check_sep(inp, out):
        esep = np.isin(inp["token_ids"], SEP)
        c = [check_exact("separator mask (arith.cmpi/ori of token ids)", esep,
                         out["separators"].astype(bool))]
        c += select_checks(inp, out, T, H, T, dict(sinks=4, window=256), sep_values=esep)
        c += gather_checks(out["slots"], out["count"],
                           [(inp["keys"], "bf16"), (inp["values"], "bf16")],
                           [out["kept_keys"], out["kept_values"]], "original",
                           out["positions"], "(on Winnow's slots) ")
        print("# sepllm_separators: count[:, 0] = %s for lengths %s" % (
            out["count"][:, 0].tolist(), inp["lengths"].tolist()))
        return c

    sp = recipe_program("sepllm_separators", "sepllm_separators.mlir", "sepllm_separators",
                        args, results, check_sep)
    for ln in ([1024, 700], [250, 1024]):
        ids = rng.integers(100, 32000, size=(B, T))
        for b in range(B):  # sentences of ~8-20 tokens, commas inside, newlines between lines
            t = 0
            while t < T:
                t += int(rng.integers(3, 12))
                if t < T:
                    ids[b, t] = SEP[int(rng.choice(3, p=[0.45, 0.45, 0.1]))]
        sp.add("lengths%s" % ln, {"token_ids": ids.astype(np.int32),
                                  "lengths": np.array(ln, np.int32),
                                  "keys": rng.standard_normal((B, H, T, d)).astype(np.float32),
                                  "values": rng.standard_normal((B, H, T, d)).astype(np.float32)})
    progs.append(sp)

    # ToDRE / GreedyPrune: B=2, 576 visual tokens, D=1024, k=64, bf16
    N, D, K = 576, 1024, 64
    args = [("cls_attention", (B, N), "f32"), ("hidden", (B, N, D), "bf16")]
    results = [("seed", (B, 1), "i32"), ("indices", (B, K), "i32"), ("count", (B,), "i32"),
               ("kept", (B, K, D), "bf16"), ("old_to_new", (B, N), "i32")]

    def check_todre(inp, out):
        c = kcenter_chain_checks(inp["cls_attention"], inp["hidden"], K, "bf16", out,
                                 KC_TOL_LARGE_D)
        print("# todre_kcenter: seed = %s, count = %s" % (out["seed"][:, 0].tolist(),
                                                        out["count"].tolist()))
        return c

    td = recipe_program("todre_kcenter", "todre_kcenter.mlir", "todre_kcenter", args, results,
                        check_todre)
    for ci in range(2):
        td.add("visual_tokens%d" % ci, visual_tokens(rng, B, N, D))
    progs.append(td)

    # FasterVLM: CLIP-L/336 layer (16 heads, d 64), [CLS] row over 576 patches, keep 64
    HV, DV, KEEP = 16, 64, 64
    args = [("cls_query", (B, HV, 1, DV), "bf16"), ("patch_keys", (B, HV, N, DV), "bf16"),
            ("cls_lse", (B, HV, 1), "f32"), ("features", (B, N, D), "bf16")]
    results = [("cls_scores", (B, N), "f32"), ("indices", (B, KEEP), "i32"), ("count", (B,), "i32"),
               ("kept_features", (B, KEEP, D), "bf16"), ("old_to_new", (B, N), "i32")]

    def check_fastervlm(inp, out):
        ref = porc.attn_score(inp["cls_query"], inp["patch_keys"], None, inp["cls_lse"])
        c = [check_close("cls_scores (attn_score, lse over 577 keys)", ref, out["cls_scores"])]
        got = np.asarray(out["cls_scores"], np.float32)
        ei, ec = porc.select(got, ("top_k", KEEP), KEEP)
        c.append(check_exact("count (select on Winnow's scores)", ec, out["count"]))
        c.append(check_exact("indices (select on Winnow's scores)", ei, out["indices"]))
        ascending = all(np.all(np.diff(out["indices"][b, :out["count"][b]]) > 0) for b in range(B))
        c.append(("raster order preserved (indices ascending)", bool(ascending), ""))
        (eg,), om = porc.compact(out["indices"], out["count"], [inp["features"]])
        c.append(check_bits("kept_features (compact on Winnow's indices)", eg,
                            out["kept_features"], "bf16"))
        c.append(check_exact("old_to_new", om, out["old_to_new"]))
        return c

    fv = recipe_program("fastervlm_cls", "fastervlm_cls.mlir", "fastervlm_cls", args, results,
                        check_fastervlm)
    for ci in range(2):
        fv.add("clip_layer%d" % ci, clip_cls_inputs(rng, B, HV, N, DV, D))
    progs.append(fv)
    return progs


def visual_tokens(rng, B, N, D):
    """576 patch states: ~24 object/background clusters + noise; CLS attention
    peaks on a few object patches."""
    x = np.zeros((B, N, D))
    cls = np.zeros((B, N))
    for b in range(B):
        centers = rng.standard_normal((24, D))
        lab = rng.integers(0, 24, size=N)
        x[b] = centers[lab] + 0.6 * rng.standard_normal((N, D))
        x[b, rng.integers(0, N, size=4)] *= 8.0  # a few high-norm "register" tokens
        cls[b] = rng.gamma(0.3, size=N)
    cls /= cls.sum(axis=1, keepdims=True)
    return {"cls_attention": cls.astype(np.float32), "hidden": x.astype(np.float32)}


def clip_cls_inputs(rng, B, H, N, d, D):
    q = rng.standard_normal((B, H, 1, d)).astype(np.float32)
    k = rng.standard_normal((B, H, N + 1, d)).astype(np.float32)
    k[:, :, 1 + rng.integers(0, N, size=12)] += 0.8 * q  # salient patches
    qd = porc.round_to_bf16(q).astype(np.float64)
    kd = porc.round_to_bf16(k).astype(np.float64)
    s = np.einsum("bhqd,bhnd->bhqn", qd, kd) / np.sqrt(d)  # over CLS + 576 patches
    m = s.max(axis=-1, keepdims=True)
    lse = (m + np.log(np.exp(s - m).sum(axis=-1, keepdims=True)))[..., 0]
    feats = rng.standard_normal((B, N, D)).astype(np.float32)
    return {"cls_query": q, "patch_keys": k[:, :, 1:], "cls_lse": lse.astype(np.float32),
            "features": feats}


def main():
    ap = tool_args(__doc__.split("\n")[0])
    ap.add_argument("--recipes", action="store_true",
                    help="check the examples/ recipes instead of the generated corpus")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    progs = build_recipes(rng) if a.recipes else build_corpus(rng, 1 if a.quick else 2)
    if a.filter:
        progs = [p for p in progs if a.filter in p.name]
    return run_programs(progs, a, "run_kv_oracle.py")


if __name__ == "__main__":
    sys.exit(main())

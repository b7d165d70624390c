#!/usr/bin/python3
"""End-to-end oracle tests for tok.dart_select (DART).

Generates tok programs (several functions per module, one compile per
module), compiles them with winnow-compile, runs every case with winnow-run on
the CPU and compares with the independent NumPy reference in dart_oracle.py:

  * count exactly, always (it does not depend on how ties are broken);
  * indices exactly (ascending, -1 padded) on every batch row where the
    float64 oracle sees no near-tie on a selection boundary (pivot L1 norms
    within a relative 1e-6, similarities within 1e-6; 1e-5 for widths over
    256); a row with near-ties is replayed with each near-tie resolved the
    way Winnow chose and must then match exactly ("near-tie rows exact after
    resolution"); failing that it is checked structurally (ascending, unique,
    valid, every text token kept, -1 padding) and reported as such.
    Deliberate exact ties (duplicate key rows, duplicate hidden rows, zero
    rows, a zero pivot, NaN) must follow the lower-index rule exactly;
  * a pipeline dart_select -> tok.compact (hidden bf16 + position ids) checks
    the gathered rows bit for bit and old_to_new on Winnow's indices.

Edge corpus: the hand-checked example; pool running empty (early stop);
keep = 0; M = 0 (keep < pivots); empty span; span = everything (no text);
lengths {0, 1, inside the span, L, negative, > L}; more text pivots than text
tokens; more image pivots than image tokens; NaN key rows and NaN / zero
hidden rows; a NaN and a zero pivot; f32 / f16 / bf16 and mixed key/hidden
types; B > 1 with different data per row; a capacity above the minimum.

With --recipes, compiles and checks examples/dart_llava.mlir instead.

Prints one line per check and a final `N passed, M failed`; exits 1 on any
failure. Run with Debian's /usr/bin/python3 (needs NumPy).

  run_dart_oracle.py --compile winnow-compile --run winnow-run --workdir DIR
                     [--seed S] [--quick] [--filter SUBSTR] [--recipes]
"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import dart_oracle as orc  # noqa: E402
import prune_oracle as porc  # noqa: E402
from run_chunk_oracle import _sig, run_programs, tool_args  # noqa: E402
from run_prune_oracle import (  # noqa: E402
    Program, _Types, check_bits, check_exact, compact_op)

NAN = float("nan")

# ---------------------------------------------------------------------------
# Op text and checks
# ---------------------------------------------------------------------------


def dart_op(idx, cnt, a, keys, hidden, attrs, lengths=None):
    t = a.types()
    ops = [keys, hidden]
    text = "%%%s, %%%s = tok.dart_select %%%s, %%%s" % (idx, cnt, keys, hidden)
    if lengths:
        text += " lengths %" + lengths
        ops.append(lengths)
    text += " {span = array<i64: %d, %d>, image_pivots = %d, text_pivots = %d, keep = %d}" % (
        attrs["span"][0], attrs["span"][1], attrs["ip"], attrs["tp"], attrs["keep"])
    return text + _sig(t, ops, [idx, cnt])


def dart_checks(keys, hidden, lengths, attrs, got_idx, got_cnt, prefix=""):
    dk, d = np.asarray(keys).shape[-1], np.asarray(hidden).shape[-1]
    sim_tol, l1_rtol = orc.tolerances(dk, d)
    C = np.asarray(got_idx).shape[1]
    _, ec = orc.dart_select(keys, hidden, lengths, attrs["span"], attrs["ip"], attrs["tp"],
                            attrs["keep"], C, sim_tol, l1_rtol)
    ok, detail, exact, resolved, skipped = orc.dart_verify(
        keys, hidden, lengths, attrs["span"], attrs["ip"], attrs["tp"], attrs["keep"],
        got_idx, got_cnt, sim_tol, l1_rtol)
    label = prefix + "indices"
    if ok:
        label += " [%d rows exact%s%s]" % (
            exact, "" if not resolved else ", %d near-tie rows exact after resolution" % resolved,
            "" if not skipped else ", %d near-tie rows checked structurally" % skipped)
    return [check_exact(prefix + "count", ec, got_cnt), (label, ok, detail)]


# ---------------------------------------------------------------------------
# Program builders
# ---------------------------------------------------------------------------


def make_dart(module, name, B, L, Dk, D, kdt, hdt, span, ip, tp, keep, lengths=True,
              extra_capacity=0):
    attrs = dict(span=span, ip=ip, tp=tp, keep=keep)
    C = max(orc.min_capacity(L, span, ip, tp, keep) + extra_capacity, 1)
    args = [("keys", (B, L, Dk), kdt), ("hidden", (B, L, D), hdt)]
    if lengths:
        args.append(("lengths", (B,), "i32"))
    results = [("indices", (B, C), "i32"), ("count", (B,), "i32")]
    tt = _Types(args, results)
    body = [dart_op("indices", "count", tt, "keys", "hidden", attrs,
                    "lengths" if lengths else None)]

    def check(inp, out):
        return dart_checks(inp["keys"], inp["hidden"], inp.get("lengths"), attrs,
                           out["indices"], out["count"])

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, L=L, Dk=Dk, D=D, C=C, attrs=attrs, lengths=lengths)
    return p


def make_dart_compact(module, name, B, L, Dk, D, kdt, hdt, span, ip, tp, keep):
    """dart_select -> tok.compact of the hidden states and the position ids."""
    attrs = dict(span=span, ip=ip, tp=tp, keep=keep)
    C = orc.min_capacity(L, span, ip, tp, keep)
    args = [("keys", (B, L, Dk), kdt), ("hidden", (B, L, D), hdt), ("lengths", (B,), "i32"),
            ("positions", (B, L), "i32")]
    results = [("indices", (B, C), "i32"), ("count", (B,), "i32"),
               ("kept_hidden", (B, C, D), hdt), ("kept_positions", (B, C), "i32"),
               ("old_to_new", (B, L), "i32")]
    tt = _Types(args, results)
    body = [dart_op("indices", "count", tt, "keys", "hidden", attrs, "lengths"),
            compact_op(["kept_hidden", "kept_positions"], "old_to_new", tt, "indices", "count",
                       ["hidden", "positions"])]

    def check(inp, out):
        return compact_checks(inp, out, attrs, hdt)

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, L=L, Dk=Dk, D=D, C=C, attrs=attrs, lengths=True)
    return p


def compact_checks(inp, out, attrs, hdt, lengths="lengths"):
    c = dart_checks(inp["keys"], inp["hidden"], inp.get(lengths), attrs, out["indices"],
                    out["count"])
    (eh, ep), om = porc.compact(out["indices"], out["count"], [inp["hidden"], inp["positions"]])
    c.append(check_bits("kept_hidden (compact on Winnow's indices)", eh, out["kept_hidden"], hdt))
    c.append(check_exact("kept_positions", ep, out["kept_positions"]))
    c.append(check_exact("old_to_new", om, out["old_to_new"]))
    return c


# ---------------------------------------------------------------------------
# Input generators
# ---------------------------------------------------------------------------


def rand_keys(rng, B, L, Dk):
    """Per-token scales spread the L1 norms (a few high-norm tokens)."""
    scale = rng.gamma(2.0, 1.0, size=(B, L, 1)) + 0.1
    return (rng.standard_normal((B, L, Dk)) * scale).astype(np.float32)


def rand_hidden(rng, B, L, D, clusters=0):
    if clusters:
        centers = rng.standard_normal((B, clusters, D)) * 2
        lab = rng.integers(0, clusters, size=(B, L))
        x = np.take_along_axis(centers, lab[..., None], axis=1) + rng.standard_normal((B, L, D))
    else:
        x = rng.standard_normal((B, L, D))
    return x.astype(np.float32)


def pivots_of(keys_b, n, attrs):
    """Image and text pivots of one row (from the oracle's own ranking)."""
    s, e = attrs["span"]
    image = list(range(s, min(e, n)))
    text = [t for t in range(n) if not (s <= t < e)]
    ip, _ = orc._pick_pivots(image, keys_b, attrs["ip"], 0.0)
    tp, _ = orc._pick_pivots(text, keys_b, attrs["tp"], 0.0)
    return sorted(ip), sorted(tp), image


def edge_lengths(B, L, span):
    s, e = span
    inside = (s + e) // 2 if e > s else s
    base = [0, 1, inside, L, -3, L + 5, s, e]
    return np.array([base[i % len(base)] for i in range(B)], np.int32)


def add_dart_cases(p, rng, nrand):
    m = p.meta
    B, L, Dk, D, a = m["B"], m["L"], m["Dk"], m["D"], m["attrs"]

    def inputs(keys, hidden, lengths=None):
        d = {"keys": keys, "hidden": hidden}
        if m["lengths"]:
            d["lengths"] = (np.full(B, L, np.int32) if lengths is None
                            else np.asarray(lengths, np.int32))
        return d

    if m["lengths"]:
        k, h = rand_keys(rng, B, L, Dk), rand_hidden(rng, B, L, D)
        ln = edge_lengths(B, L, a["span"])
        for b in range(B):  # padding rows are never read: fill them with NaN
            n = min(max(int(ln[b]), 0), L)
            k[b, n:] = NAN
            h[b, n:] = NAN
        p.add("lengths_edge_nan_padding", inputs(k, h, ln))

    # exact ties: duplicate key rows straddling the pivot boundary, hidden rows
    # identical to each other (equal similarity), zero rows and a zero pivot
    k, h = rand_keys(rng, B, L, Dk), rand_hidden(rng, B, L, D)
    s, e = a["span"]
    for b in range(B):
        img = list(range(s, e))
        if len(img) >= 2:
            k[b, img[-1]] = k[b, img[0]] = k[b, img[0]] * 0 + np.abs(k[b, img[0]]) + 5.0
            k[b, img[len(img) // 2]] = -k[b, img[0]]  # same |row|: L1 tie, lower wins
        ipv, tpv, image = pivots_of(k[b], L, a)
        pool = [t for t in image if t not in set(ipv)]
        if ipv and pool:
            v = -h[b, ipv[0]]
            for t in pool[1::2][:a["keep"] + 2]:
                h[b, t] = v          # identical rows, similarity -1 to the first pivot
        if len(ipv) > 1:
            h[b, ipv[1]] = 0.0      # a zero pivot: every similarity is 0
        for t in pool[2::5]:
            h[b, t] = 0.0            # zero rows: similarity 0
    p.add("exact_ties_duplicates_zero_rows", inputs(k, h))

    # NaN: NaN key rows (rank with -inf, may still be needed as pivots),
    # NaN hidden rows (taken last), a NaN pivot (every similarity NaN)
    k, h = rand_keys(rng, B, L, Dk), rand_hidden(rng, B, L, D, clusters=3)
    for b in range(B):
        k[b, (s + b) % L::3, 0] = NAN
        ipv, tpv, image = pivots_of(k[b], L, a)
        pool = [t for t in image if t not in set(ipv)]
        for t in pool[1::3]:
            h[b, t, -1] = NAN
        for t in pool[::4]:
            h[b, t] = 0.0
        if b % 2 == 1 and (ipv or tpv):
            h[b, (ipv + tpv)[-1], 0] = NAN
    p.add("nan_keys_nan_zero_hidden", inputs(k, h))

    for i in range(nrand):
        k = rand_keys(rng, B, L, Dk)
        h = rand_hidden(rng, B, L, D, clusters=int(rng.integers(0, 5)))
        ln = rng.integers(-1, L + 2, size=B) if i % 2 else None
        p.add("random%d" % i, inputs(k, h, ln))


def example_inputs():
    keys = np.array([[1, 0], [3, 0], [1, 0], [5, 5], [1, 1], [0, 1], [2, 0], [1, 0]], np.float32)
    hidden = np.array([[1, 0], [0, 1], [1, 0], [1, 1], [1, 0.1], [0, 1], [-1, 0], [1, 0.2]],
                      np.float32)
    return {"keys": keys[None], "hidden": hidden[None]}


# ---------------------------------------------------------------------------
# The generated corpus
# ---------------------------------------------------------------------------


def build_corpus(rng, nrand):
    progs = []
    m = "dart_select"
    ex = make_dart(m, "dart_example", 1, 8, 2, 2, "f32", "f32", (2, 8), 1, 1, 2, lengths=False,
                   extra_capacity=3)
    ex.add("hand_checked", example_inputs())

    def check_example(inp, out, _check=ex.check):
        c = _check(inp, out)
        c.append(check_exact("hand-checked indices [0, 1, 2, 3, 6, -1, -1, -1]",
                             np.array([[0, 1, 2, 3, 6, -1, -1, -1]], np.int32), out["indices"]))
        return c
    ex.check = check_example
    progs.append(ex)

    corpus = [
        make_dart(m, "f32_lengths", 8, 24, 6, 5, "f32", "f32", (4, 18), 2, 2, 8),
        make_dart(m, "bf16_pool_runs_empty", 4, 16, 4, 8, "bf16", "bf16", (2, 12), 2, 1, 30),
        make_dart(m, "f16_keep0", 4, 16, 5, 3, "f16", "f16", (3, 13), 2, 2, 0),
        make_dart(m, "mixed_M0_keep_lt_pivots", 4, 18, 8, 6, "bf16", "f32", (3, 15), 2, 2, 3),
        make_dart(m, "f32_span_empty", 3, 12, 3, 4, "f32", "f32", (5, 5), 2, 2, 8),
        make_dart(m, "f16_span_everything", 8, 20, 4, 6, "f16", "bf16", (0, 20), 3, 2, 10),
        make_dart(m, "bf16_text_pivots_gt_text", 3, 12, 4, 4, "bf16", "bf16", (1, 11), 1, 5, 12),
        make_dart(m, "f32_image_pivots_gt_image", 3, 10, 3, 3, "f32", "f16", (2, 5), 5, 1, 6),
        make_dart(m, "f32_no_lengths_big_capacity", 3, 30, 8, 8, "f32", "bf16", (5, 25), 2, 3, 10,
                  lengths=False, extra_capacity=5),
        make_dart(m, "f32_larger", 2, 200, 64, 48, "f32", "f32", (20, 170), 4, 4, 40),
    ]
    for p in corpus:
        add_dart_cases(p, rng, nrand)
    progs += corpus

    m = "dart_pipeline"
    pipes = [
        make_dart_compact(m, "dart_compact_bf16", 3, 40, 16, 16, "bf16", "bf16", (5, 30), 2, 2, 8),
        make_dart_compact(m, "dart_compact_f16_pool_empty", 2, 24, 8, 8, "f16", "f16", (4, 20),
                          1, 1, 40),
    ]
    for p in pipes:
        mm = p.meta
        B, L = mm["B"], mm["L"]
        for ci in range(2):
            ln = edge_lengths(B, L, mm["attrs"]["span"]) if ci == 0 else \
                rng.integers(0, L + 1, size=B).astype(np.int32)
            pos = np.broadcast_to(np.arange(L, dtype=np.int32) * 3 + 7, (B, L)).copy()
            p.add("case%d" % ci, {"keys": rand_keys(rng, B, L, mm["Dk"]),
                                  "hidden": rand_hidden(rng, B, L, mm["D"], clusters=3),
                                  "lengths": ln, "positions": pos})
    progs += pipes

    # batch 1 (B = 1): 1-element batch loops (and grid axes under the GPU
    # mapping). Built last so that the draws of the cases above do not shift.
    p = make_dart("dart_select", "bf16_lengths_b1", 1, 16, 4, 8, "bf16", "bf16", (2, 12), 2, 1, 6)
    add_dart_cases(p, rng, nrand)
    progs.append(p)
    p = make_dart_compact("dart_pipeline", "dart_compact_bf16_b1", 1, 40, 16, 16, "bf16", "bf16",
                          (5, 30), 2, 2, 8)
    mm = p.meta
    for ci, ln in enumerate(([40], [17], [0])):
        pos = (np.arange(40, dtype=np.int32) * 3 + 7)[None].copy()
        p.add("case%d/len%s" % (ci, ln), {"keys": rand_keys(rng, 1, 40, mm["Dk"]),
                                          "hidden": rand_hidden(rng, 1, 40, mm["D"], clusters=3),
                                          "lengths": np.asarray(ln, np.int32), "positions": pos})
    progs.append(p)
    return progs


# ---------------------------------------------------------------------------
# Recipe (examples/dart_llava.mlir)
# ---------------------------------------------------------------------------

LLAVA = dict(B=2, L=700, Dk=1024, D=1024, span=(35, 611), ip=4, tp=4, keep=128, C=256)


def llava_inputs(rng, B, L, Dk, D, lengths):
    """Layer-2 LLaVA-1.5-like states: 35 system tokens, 576 image tokens in ~40
    object/background clusters (with a shared direction and a few high-norm
    artifact tokens), then the text query; keys with spread L1 norms."""
    s, e = LLAVA["span"]
    common = rng.standard_normal(D)
    hidden = np.zeros((B, L, D))
    keys = np.zeros((B, L, Dk))
    for b in range(B):
        centers = rng.standard_normal((40, D)) * 1.5 + 0.5 * common
        lab = rng.integers(0, 40, size=e - s)
        hidden[b, s:e] = centers[lab] + 0.7 * rng.standard_normal((e - s, D))
        hidden[b, rng.integers(s, e, size=6)] *= 6.0        # artifact tokens
        hidden[b, :s] = rng.standard_normal((s, D)) + common
        hidden[b, e:] = rng.standard_normal((L - e, D)) + 0.3 * common
        scale = rng.gamma(3.0, 0.3, size=(L, 1))
        keys[b] = rng.standard_normal((L, Dk)) * scale
        n = min(max(int(lengths[b]), 0), L)
        hidden[b, n:] = 0.0
        keys[b, n:] = 0.0
    pos = np.broadcast_to(np.arange(L, dtype=np.int32), (B, L)).copy()
    return {"keys": keys.astype(np.float32), "hidden": hidden.astype(np.float32),
            "lengths": np.asarray(lengths, np.int32), "positions": pos}


def build_recipes(rng):
    P = LLAVA
    B, L, Dk, D, C = P["B"], P["L"], P["Dk"], P["D"], P["C"]
    attrs = dict(span=P["span"], ip=P["ip"], tp=P["tp"], keep=P["keep"])
    assert orc.min_capacity(L, P["span"], P["ip"], P["tp"], P["keep"]) == C
    args = [("keys", (B, L, Dk), "bf16"), ("hidden", (B, L, D), "bf16"),
            ("lengths", (B,), "i32"), ("positions", (B, L), "i32")]
    results = [("indices", (B, C), "i32"), ("count", (B,), "i32"),
               ("kept_hidden", (B, C, D), "bf16"), ("kept_positions", (B, C), "i32"),
               ("old_to_new", (B, L), "i32")]

    def check(inp, out):
        c = compact_checks(inp, out, attrs, "bf16")
        print("# dart_llava: count = %s for lengths %s" % (out["count"].tolist(),
                                                           inp["lengths"].tolist()))
        return c

    p = Program("dart_llava", "dart_llava", args, results, None, check)
    p.source = os.path.join(ROOT, "examples", "dart_llava.mlir")
    for ln in ([700, 652], [611, 700]):
        p.add("lengths%s" % ln, llava_inputs(rng, B, L, Dk, D, ln))
    return [p]


def main():
    ap = tool_args(__doc__.split("\n")[0])
    ap.add_argument("--recipes", action="store_true",
                    help="check examples/dart_llava.mlir instead of the generated corpus")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    progs = build_recipes(rng) if a.recipes else build_corpus(rng, 1 if a.quick else 2)
    if a.filter:
        progs = [p for p in progs if a.filter in p.name]
    return run_programs(progs, a, "run_dart_oracle.py")


if __name__ == "__main__":
    sys.exit(main())

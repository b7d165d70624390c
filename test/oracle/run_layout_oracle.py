#!/usr/bin/env python3
"""End-to-end oracle test of the layout ops (tok.unpack_ragged,
tok.pack_ragged, tok.tree_parents): generates tok programs, compiles them
with winnow-compile, runs them with winnow-run and compares every result bit
for bit with the NumPy reference below, written from the ops' documented
semantics (offsets clamped into [0, T], rows past C cut, tok.compact's
padding; child lists walked in node order, first parent kept, T steps).

usage: run_layout_oracle.py --compile winnow-compile --run winnow-run --workdir DIR
       [--quick] [--filter S] [--compile-flag=--emulate-cuda-on-cpu]
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run_chunk_oracle import _sig, run_programs, tool_args  # noqa: E402
from run_prune_oracle import Program, _Types, check_bits, check_exact  # noqa: E402

NP = {"f32": np.float32, "bf16": np.float32, "f16": np.float16, "i32": np.int32,
      "i64": np.int64, "i1": np.bool_, "i8": np.int8}


def padding(dt):
    return False if dt == "i1" else (-1 if dt.startswith("i") else 0)


# ---------------------------------------------------------------------------
# Reference
# ---------------------------------------------------------------------------


def unpack_ragged(flat, cu, C, dt):
    """(padded [B, C, ...], lengths [B] int32)."""
    T = flat.shape[0]
    B = len(cu) - 1
    padded = np.full((B, C) + flat.shape[1:], padding(dt), dtype=flat.dtype)
    lengths = np.zeros(B, np.int32)
    for b in range(B):
        start = min(max(int(cu[b]), 0), T)
        end = min(max(int(cu[b + 1]), start), T)
        n = min(end - start, C)
        padded[b, :n] = flat[start:start + n]
        lengths[b] = n
    return padded, lengths


def pack_ragged(padded, count, T, dt):
    """(flat [T, ...], cu_seqlens [B + 1] int32)."""
    B, C = padded.shape[:2]
    flat = np.full((T,) + padded.shape[2:], padding(dt), dtype=padded.dtype)
    cu = np.zeros(B + 1, np.int32)
    for b in range(B):
        n = min(max(int(count[b]), 0), C)
        cu[b + 1] = min(cu[b] + n, T)
        flat[cu[b]:cu[b + 1]] = padded[b, :cu[b + 1] - cu[b]]
    return flat, cu


def tree_parents(first_child, next_sibling):
    """parents [B, T] int32 from first-child / next-sibling lists."""
    B, T = first_child.shape
    parents = np.full((B, T), -1, np.int32)
    for b in range(B):
        for i in range(T):
            c = int(first_child[b, i])
            for _ in range(T):
                if not 0 <= c < T:
                    break
                if c != 0 and parents[b, c] == -1:
                    parents[b, c] = i
                c = int(next_sibling[b, c])
    return parents


def sibling_lists(parents):
    """The first-child / next-sibling encoding of parent arrays (children in
    ascending order), -1 ending each list: what SGLang builds."""
    B, T = parents.shape
    first = np.full((B, T), -1, np.int64)
    nxt = np.full((B, T), -1, np.int64)
    for b in range(B):
        last = {}
        for c in range(1, T):
            p = int(parents[b, c])
            if p < 0:
                continue
            if p in last:
                nxt[b, last[p]] = c
            else:
                first[b, p] = c
            last[p] = c
    return first, nxt


# ---------------------------------------------------------------------------
# Programs
# ---------------------------------------------------------------------------


def make_tree_parents(module, name, B, T, dt_first, dt_next):
    args = [("first_child", (B, T), dt_first), ("next_sibling", (B, T), dt_next)]
    results = [("parents", (B, T), "i32")]
    tt = _Types(args, results)
    body = ["%parents = tok.tree_parents %first_child, %next_sibling"
            + _sig(tt.types(), ["first_child", "next_sibling"], ["parents"])]

    def check(inp, out):
        want = tree_parents(inp["first_child"], inp["next_sibling"])
        return [check_exact("parents", want, out["parents"])]

    p = Program(module, name, args, results, body, check)
    p.meta = dict(B=B, T=T)
    return p


def random_tree(rng, B, T):
    """Parent arrays with parents[i] < i (the order tree_verify reads)."""
    parents = np.full((B, T), -1, np.int32)
    for b in range(B):
        n = int(rng.integers(1, T + 1))
        for i in range(1, n):
            parents[b, i] = int(rng.integers(0, i))
    return parents


def make_unpack(module, name, T, B, C, rest, dt, offsets_dt):
    args = [("flat", (T,) + rest, dt), ("cu_seqlens", (B + 1,), offsets_dt)]
    results = [("padded", (B, C) + rest, dt), ("lengths", (B,), "i32")]
    tt = _Types(args, results)
    body = ["%padded, %lengths = tok.unpack_ragged %flat, %cu_seqlens"
            + _sig(tt.types(), ["flat", "cu_seqlens"], ["padded", "lengths"])]

    def check(inp, out):
        ep, el = unpack_ragged(inp["flat"], inp["cu_seqlens"], C, dt)
        return [check_exact("lengths", el, out["lengths"]),
                check_bits("padded", ep, out["padded"], dt)]

    p = Program(module, name, args, results, body, check)
    p.meta = dict(T=T, B=B, C=C, rest=rest, dt=dt)
    return p


def make_pack(module, name, T, B, C, rest, dt):
    args = [("padded", (B, C) + rest, dt), ("count", (B,), "i32")]
    results = [("flat", (T,) + rest, dt), ("cu_seqlens", (B + 1,), "i32")]
    tt = _Types(args, results)
    body = ["%flat, %cu_seqlens = tok.pack_ragged %padded, %count"
            + _sig(tt.types(), ["padded", "count"], ["flat", "cu_seqlens"])]

    def check(inp, out):
        ef, ec = pack_ragged(inp["padded"], inp["count"], T, dt)
        return [check_exact("cu_seqlens", ec, out["cu_seqlens"]),
                check_bits("flat", ef, out["flat"], dt)]

    p = Program(module, name, args, results, body, check)
    p.meta = dict(T=T, B=B, C=C, rest=rest, dt=dt)
    return p


def values(rng, shape, dt):
    if dt == "i1":
        return rng.random(shape) < 0.5
    if dt.startswith("i"):
        return rng.integers(-50, 1000, shape).astype(NP[dt])
    v = rng.standard_normal(shape).astype(np.float32)
    return v.astype(np.float16) if dt == "f16" else v


def build_corpus(rng, nrand):
    progs = []
    # unpack: offsets monotonic, empty requests, past T, negative,
    # decreasing, a request longer than C; i32 and i64 offsets.
    for name, T, B, C, rest, dt, odt in [
            ("unpack_f32_rows_i64", 20, 4, 6, (3,), "f32", "i64"),
            ("unpack_bf16_rows_i32", 24, 5, 5, (4,), "bf16", "i32"),
            ("unpack_i32_tokens_i32", 30, 6, 8, (), "i32", "i32"),
            ("unpack_i1_mask_i64", 17, 3, 9, (), "i1", "i64"),
            ("unpack_f16_rank3_i32", 12, 3, 4, (2, 3), "f16", "i32")]:
        p = make_unpack("unpack_ragged", name, T, B, C, rest, dt, odt)
        odtype = NP[odt]
        flat = values(rng, (T,) + rest, dt)
        even = np.linspace(0, T, B + 1).astype(odtype)
        p.add("even", {"flat": flat, "cu_seqlens": even})
        edge = np.array(([0, 0, C + 3, C + 3, T + 9, T + 20] + [T] * B)[:B + 1], odtype)
        p.add("empty_long_past_T", {"flat": flat, "cu_seqlens": edge})
        bad = np.array(([-5, 4, 2, T - 1, -3, T + 1] + [0] * B)[:B + 1], odtype)
        p.add("negative_decreasing", {"flat": flat, "cu_seqlens": bad})
        for r in range(nrand):
            cut = np.sort(rng.integers(0, T + 1, B + 1)).astype(odtype)
            cut[0] = 0
            p.add("random%d" % r, {"flat": values(rng, (T,) + rest, dt), "cu_seqlens": cut})
        progs.append(p)
    # Offsets beyond 32 bits stay exact in i64 (clamped to T, not wrapped).
    p = make_unpack("unpack_ragged_wide", "unpack_i64_offsets_beyond_i32", 10, 2, 4, (),
                    "i32", "i64")
    p.add("huge", {"flat": np.arange(10, dtype=np.int32),
                   "cu_seqlens": np.array([2, 2 ** 40, -(2 ** 40)], np.int64)})
    progs.append(p)
    # pack: counts within, negative, above C; totals below, at and above T.
    for name, T, B, C, rest, dt in [
            ("pack_i32_tokens", 12, 4, 5, (), "i32"),
            ("pack_bf16_rows", 9, 3, 4, (4,), "bf16"),
            ("pack_f32_exact_fit", 10, 3, 4, (2,), "f32"),
            ("pack_i1_mask", 7, 3, 3, (), "i1")]:
        p = make_pack("pack_ragged", name, T, B, C, rest, dt)
        padded = values(rng, (B, C) + rest, dt)
        p.add("within", {"padded": padded,
                         "count": np.array(([1, 0, C, 2] + [1] * B)[:B], np.int32)})
        p.add("clamped", {"padded": padded,
                          "count": np.array(([-4, C + 7, 3, -1] + [C] * B)[:B], np.int32)})
        p.add("overflow", {"padded": padded, "count": np.full(B, C, np.int32)})
        for r in range(nrand):
            p.add("random%d" % r, {"padded": values(rng, (B, C) + rest, dt),
                                   "count": rng.integers(-1, C + 2, B).astype(np.int32)})
        progs.append(p)
    # tree_parents: SGLang-style lists of random trees (round trip to the
    # parents), and malformed lists (cycles, a node under two parents, the
    # root listed as a child, ids past T, i64 ids beyond 32 bits).
    for name, B, T, df, dn in [("tree_i64_lists", 5, 12, "i64", "i64"),
                               ("tree_i32_lists", 3, 33, "i32", "i32"),
                               ("tree_mixed_lists", 2, 7, "i64", "i32")]:
        p = make_tree_parents("tree_parents", name, B, T, df, dn)
        for r in range(max(nrand, 2)):
            parents = random_tree(rng, B, T)
            first, nxt = sibling_lists(parents)
            # The encoding of a well-formed tree decodes to that tree.
            assert (tree_parents(first, nxt) == parents).all()
            p.add("round_trip%d" % r, {"first_child": first.astype(NP[df]),
                                       "next_sibling": nxt.astype(NP[dn])})
        bad_first = rng.integers(-3, T + 4, (B, T))
        bad_next = rng.integers(-3, T + 4, (B, T))
        bad_next[:, 1] = 1  # a self-loop
        bad_first[:, 0] = 1
        p.add("malformed", {"first_child": bad_first.astype(NP[df]),
                            "next_sibling": bad_next.astype(NP[dn])})
        progs.append(p)
    return progs


def self_test():
    flat = np.arange(10, dtype=np.int32)
    padded, lengths = unpack_ragged(flat, [0, 3, 3, 9], 4, "i32")
    assert lengths.tolist() == [3, 0, 4]
    assert padded.tolist() == [[0, 1, 2, -1], [-1] * 4, [3, 4, 5, 6]]
    back, cu = pack_ragged(padded, lengths, 10, "i32")
    assert cu.tolist() == [0, 3, 3, 7]
    assert back.tolist() == [0, 1, 2, 3, 4, 5, 6, -1, -1, -1]
    parents = np.array([[-1, 0, 0, 1, 1, 2]], np.int32)
    first, nxt = sibling_lists(parents)
    assert first.tolist() == [[1, 3, 5, -1, -1, -1]]
    assert nxt.tolist() == [[-1, 2, -1, 4, -1, -1]]
    assert tree_parents(first, nxt).tolist() == parents.tolist()
    # A cycle ends; a second parent does not replace the first.
    assert tree_parents(np.array([[1, 1]]), np.array([[0, 1]])).tolist() == [[-1, 0]]
    print("layout oracle self-test passed")


def main():
    ap = tool_args(__doc__.split("\n")[0])
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args()
    if a.self_test:
        self_test()
        return 0
    rng = np.random.default_rng(a.seed)
    progs = build_corpus(rng, 1 if a.quick else 3)
    if a.filter:
        progs = [p for p in progs if a.filter in p.name]
    return run_programs(progs, a, "run_layout_oracle.py")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Compile and run the chunking-method recipes and check them against chunk_methods_oracle.py.

  examples/dynamic_token_pooling.mlir (@dtp_downsample, @dtp_upsample:
                                       B=2, L=512, D=128, f32)
  examples/byte_word_pooling.mlir     (@byte_word_pool, @byte_word_unpool:
                                       B=2, L=512 bytes, D=128, f32)

The oracle follows the papers' convention (a boundary ends its group, a null
group is prepended to the shortened sequence), not Winnow's segment rule, so
these runs check that the recipes' mask shift and null-row handling give the
methods' results. Inputs are seeded; the edge cases are a boundary at token 0,
groups of one token, consecutive boundaries, p exactly 0.5 (not a boundary),
a row with no boundary, a row ending on a boundary, every token a boundary,
ragged lengths, length 0, a length above L (clamped), boundaries / probabilities
above 0.5 / whitespace in the padding (ignored), and byte ids outside 0..255.
Checks:

  * boundaries / separators, counts: exactly;
  * groups / words: the paper's groups s_0..s_{K-1}, the trailing partial
    group (row K) and the zero rows past the count, within the bound of an
    fp32 sum in any order plus the division and the result's rounding
    (chunk_methods_oracle.pool_groups; a one-token group is exact);
  * byte embeddings: bit-exact (a gather);
  * upsampling: bit-exact (one fp32 addition); the rows of the shortened
    output that the method never reads are NaN, so reading one fails.

Prints one line per check and a final `N passed, M failed`; exits 1 on any
failure. --compile-flag=--emulate-cuda-on-cpu runs the same cases through
the GPU mapping on the CPU.

  run_chunk_methods.py --compile winnow-compile --run winnow-run --workdir DIR
"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import chunk_methods_oracle as mo  # noqa: E402
from run_prune_oracle import (  # noqa: E402
    Program, check_bits, check_exact, run_programs, tool_args)

DTP = os.path.join(ROOT, "examples", "dynamic_token_pooling.mlir")
BYTES = os.path.join(ROOT, "examples", "byte_word_pooling.mlir")
B, L, D = 2, 512, 128
Y = L + 1  # the shortened output: the null group plus up to L groups


def recipe_program(module, source, name, args, results, check):
    p = Program(module, name, args, results, None, check)
    p.source = source
    return p


def group_checks(what, h, b, lengths, got_groups, got_count):
    """Counts exactly; groups within pool_groups' bound; rows past the count 0."""
    ref, cnt, complete, tol = mo.pool_groups(h, b, lengths, L)
    checks = [check_exact(what + " count (groups incl. the trailing partial one)", cnt,
                          got_count)]
    got = np.asarray(got_groups, dtype=np.float64)
    kinds = {"paper's groups s_0..s_{K-1}": np.zeros(ref.shape[:2], bool),
             "trailing partial group (row K)": np.zeros(ref.shape[:2], bool),
             "rows past the count are 0": np.zeros(ref.shape[:2], bool)}
    for r in range(B):
        kinds["paper's groups s_0..s_{K-1}"][r, :complete[r]] = True
        kinds["trailing partial group (row K)"][r, complete[r]:cnt[r]] = True
        kinds["rows past the count are 0"][r, cnt[r]:] = True
    for kind, rows in kinds.items():
        if not rows.any():
            continue
        err = np.abs(got - ref)
        bad = ~(err <= tol) & rows[..., None]
        label = "%s %s" % (what, kind)
        if bad.any():
            pos = tuple(int(x) for x in np.argwhere(bad)[0])
            checks.append((label, False, "%d outside the fp32 bound; first at %s: ref %.9g, "
                           "got %.9g, tol %.3g" % (int(bad.sum()), pos, ref[pos], got[pos],
                                                   tol[pos])))
        else:
            sel = rows[..., None] & (tol > 0)
            used = float((err[sel] / tol[sel]).max()) if sel.any() else 0.0
            checks.append((label + " [%d rows, max |err| / tol %.2f]" % (int(rows.sum()), used),
                           True, ""))
    return checks, cnt, complete


def unread_as_nan(y, b, lengths):
    """Rows of the shortened output past what upsampling reads become NaN."""
    y = np.array(y, dtype=np.float32)
    last = mo.rows_read(b, lengths)
    for r in range(B):
        y[r, last[r] + 1:] = np.nan
    return y


def upsample_check(what, inp_y, b, lengths, residual, got):
    ref = mo.upsample(inp_y, b, lengths, residual, dtype=np.float32)
    c = [check_bits(what, ref, got, "f32")]
    last = mo.rows_read(b, lengths)
    c.append(check_exact(what + ": no unread (NaN) row reached the output",
                         np.zeros((), bool), np.isnan(np.asarray(got)).any()))
    print("# %s: reads shortened rows 0..%s for lengths %s" % (
        what, [int(x) for x in last], [int(x) for x in lengths]))
    return c


# ---------------------------------------------------------------------------
# Dynamic Token Pooling
# ---------------------------------------------------------------------------


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def mlp_predictor_probs(rng, h, rate=0.2):
    """The paper's predictor: sigmoid(W2 relu(W1 h)), biased to ~rate boundaries."""
    w1 = rng.standard_normal((D, 4 * D)) / np.sqrt(D)
    w2 = rng.standard_normal((4 * D,)) / np.sqrt(4 * D)
    z = np.maximum(h @ w1, 0.0) @ w2
    z = (z - z.mean()) / z.std()
    return sigmoid(2.0 * z + 2.0 * np.log(rate / (1 - rate))).astype(np.float32)


def dtp_edge_probs(rng):
    """Row 0: token 0 a boundary, one-token groups, p = 0.5, ends on a boundary.
    Row 1 (length 200): no boundary; the padding is all above 0.5."""
    p = np.full((B, L), 0.1, np.float32)
    p[0] = np.where(rng.random(L) < 0.25, 0.8, 0.2)
    p[0, 0:3] = 0.9          # three one-token groups at the start
    p[0, 3] = 0.5            # exactly 0.5: not a boundary
    p[0, 10:14] = 0.6        # consecutive boundaries
    p[0, L - 1] = 0.95       # the last token ends a group: no partial group
    p[1, 200:] = 0.99        # padding: ignored
    return p, np.array([L, 200], np.int32)


def dtp_cases(rng):
    h = rng.standard_normal((B, L, D)).astype(np.float32)
    cases = []
    cases.append(("mlp_predictor/len{512,301}", h, mlp_predictor_probs(rng, h),
                  np.array([L, 301], np.int32)))
    p, ln = dtp_edge_probs(rng)
    cases.append(("edge_token0_single_tokens_no_boundary/len{512,200}", h, p, ln))
    cases.append(("len{0,600}", h, mlp_predictor_probs(rng, h, 0.3),
                  np.array([0, 600], np.int32)))
    cases.append(("every_token_a_boundary/len{512,7}", h, np.full((B, L), 0.75, np.float32),
                  np.array([L, 7], np.int32)))
    return cases


def dtp_downsample_program():
    args = [("hidden", (B, L, D), "f32"), ("boundary_probs", (B, L), "f32"),
            ("lengths", (B,), "i32")]
    results = [("boundaries", (B, L), "i1"), ("groups", (B, L, D), "f32"),
               ("group_count", (B,), "i32")]

    def check(inp, out):
        ln = inp["lengths"]
        b = mo.hard_boundaries(inp["boundary_probs"], ln)
        c = [check_exact("boundaries = p > 0.5 (padding false)", b, out["boundaries"])]
        gc, cnt, complete = group_checks("groups:", inp["hidden"], b, ln, out["groups"],
                                         out["group_count"])
        print("# dtp_downsample: group_count = %s, complete groups K = %s for lengths %s" % (
            [int(x) for x in out["group_count"]], [int(x) for x in complete],
            [int(x) for x in ln]))
        return c + gc

    return recipe_program("dtp", DTP, "dtp_downsample", args, results, check)


def dtp_upsample_program():
    args = [("shortened_out", (B, Y, D), "f32"), ("boundaries", (B, L), "i1"),
            ("lengths", (B,), "i32"), ("residual", (B, L, D), "f32")]
    results = [("out", (B, L, D), "f32")]

    def check(inp, out):
        return upsample_check("out = shortened_out[sum_{s<=t} b_s] + residual",
                              inp["shortened_out"], inp["boundaries"], inp["lengths"],
                              inp["residual"], out["out"])

    return recipe_program("dtp", DTP, "dtp_upsample", args, results, check)


def stand_in_model(rng, groups, count):
    """[null; groups] through a causal stand-in: y_j = tanh(W x_j) + the
    running mean (any causal map will do; the recipe never looks inside)."""
    x = np.zeros((B, Y, D))
    x[:, 0] = rng.standard_normal(D)  # the null group
    x[:, 1:] = groups
    w = rng.standard_normal((D, D)) / np.sqrt(D)
    y = np.tanh(x @ w) + np.cumsum(x, axis=1) / np.arange(1, Y + 1)[None, :, None]
    for r in range(B):
        y[r, count[r] + 1:] = 0
    return y.astype(np.float32)


# ---------------------------------------------------------------------------
# Byte-level inputs
# ---------------------------------------------------------------------------


def byte_text(rng, n, lead=b""):
    """Words of ASCII and two-byte UTF-8 letters, punctuation attached, mostly
    single spaces, sometimes LF, tab, CR LF or double spaces."""
    out = bytearray(lead)
    letters = b"abcdefghijklmnopqrstuvwxyz"
    while len(out) < n:
        for _ in range(int(rng.integers(1, 9))):
            if rng.random() < 0.08:
                out += "é".encode("utf-8")
            else:
                out.append(letters[int(rng.integers(0, 26))])
        if rng.random() < 0.2:
            out += b",.;!?"[int(rng.integers(0, 5)):][:1]
        out += [b" ", b" ", b" ", b" ", b"\n", b"\t", b"  ", b"\r\n"][int(rng.integers(0, 8))]
    return np.frombuffer(bytes(out[:n]), dtype=np.uint8).astype(np.int32)


def byte_cases(rng):
    cases = []
    ids = np.stack([byte_text(rng, L), byte_text(rng, L)])
    ids[1, 301:] = 32  # spaces in the padding: ignored
    cases.append(("text/len{512,301}", ids, np.array([L, 301], np.int32)))
    edge = np.stack([byte_text(rng, L, lead=b"  \n"), byte_text(rng, L)])
    edge[0, L - 1] = 32               # row 0 ends on a separator: no partial word
    edge[1, :100] = np.frombuffer(b"x" * 60 + "é".encode() * 20, np.uint8)[:100]
    edge[1, 20] = 300                 # ids outside 0..255: zero embedding,
    edge[1, 21] = -5                  # never a separator
    cases.append(("edge_leading_ws_no_ws_bad_ids/len{512,100}", edge,
                  np.array([L, 100], np.int32)))
    cases.append(("len{0,512}", np.stack([byte_text(rng, L), byte_text(rng, L)]),
                  np.array([0, L], np.int32)))
    return cases


def byte_pool_program():
    args = [("byte_ids", (B, L), "i32"), ("byte_table", (256, D), "f32"),
            ("lengths", (B,), "i32")]
    results = [("byte_embeddings", (B, L, D), "f32"), ("separators", (B, L), "i1"),
               ("words", (B, L, D), "f32"), ("word_count", (B,), "i32")]

    def check(inp, out):
        ln = inp["lengths"]
        e = mo.embed(inp["byte_ids"], inp["byte_table"], ln)
        c = [check_bits("byte_embeddings = byte_table[byte_ids]", e, out["byte_embeddings"],
                        "f32")]
        s = mo.whitespace_boundaries(inp["byte_ids"], ln)
        c.append(check_exact("separators = whitespace bytes (padding false)", s,
                             out["separators"]))
        gc, cnt, complete = group_checks("words:", e, s, ln, out["words"], out["word_count"])
        print("# byte_word_pool: word_count = %s, complete words K = %s for lengths %s" % (
            [int(x) for x in out["word_count"]], [int(x) for x in complete],
            [int(x) for x in ln]))
        return c + gc

    return recipe_program("bytes", BYTES, "byte_word_pool", args, results, check)


def byte_unpool_program():
    args = [("word_states", (B, Y, D), "f32"), ("separators", (B, L), "i1"),
            ("lengths", (B,), "i32"), ("byte_states", (B, L, D), "f32")]
    results = [("bytes_out", (B, L, D), "f32")]

    def check(inp, out):
        return upsample_check("bytes_out = word_states[#separators <= t] + byte_states",
                              inp["word_states"], inp["separators"], inp["lengths"],
                              inp["byte_states"], out["bytes_out"])

    return recipe_program("bytes", BYTES, "byte_word_unpool", args, results, check)


# ---------------------------------------------------------------------------


def build(rng):
    down, up = dtp_downsample_program(), dtp_upsample_program()
    for name, h, p, ln in dtp_cases(rng):
        down.add(name, {"hidden": h, "boundary_probs": p, "lengths": ln})
        b = mo.hard_boundaries(p, ln)
        groups, cnt, _, _ = mo.pool_groups(h, b, ln, L)
        y = unread_as_nan(stand_in_model(rng, groups, cnt), b, ln)
        up.add(name, {"shortened_out": y, "boundaries": b, "lengths": ln, "residual": h})
    # Boundaries in the padding (the upsampling is given a raw mask).
    h = rng.standard_normal((B, L, D)).astype(np.float32)
    ln = np.array([L, 250], np.int32)
    b = rng.random((B, L)) < 0.3
    b[1, 0] = True
    b[1, 250:] = True
    y = unread_as_nan(rng.standard_normal((B, Y, D)), b, ln)
    up.add("boundaries_in_padding/len{512,250}", {"shortened_out": y, "boundaries": b,
                                                   "lengths": ln, "residual": h})

    pool, unpool = byte_pool_program(), byte_unpool_program()
    table = rng.standard_normal((256, D)).astype(np.float32)
    for name, ids, ln in byte_cases(rng):
        pool.add(name, {"byte_ids": ids, "byte_table": table, "lengths": ln})
        s = mo.whitespace_boundaries(ids, ln)
        e = mo.embed(ids, table, ln)
        words, cnt, _, _ = mo.pool_groups(e, s, ln, L)
        w = unread_as_nan(stand_in_model(rng, words, cnt), s, ln)
        unpool.add(name, {"word_states": w, "separators": s, "lengths": ln,
                          "byte_states": e.astype(np.float32)})
    return [down, up, pool, unpool]


def main():
    a = tool_args(__doc__.split("\n")[0]).parse_args()
    rng = np.random.default_rng(a.seed)
    progs = build(rng)
    if a.filter:
        progs = [p for p in progs if a.filter in p.name]
    return run_programs(progs, a, "run_chunk_methods.py")


if __name__ == "__main__":
    sys.exit(main())

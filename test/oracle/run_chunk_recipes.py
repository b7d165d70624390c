#!/usr/bin/python3
"""Compile and run the chunking recipes and check them against chunk_oracle.py.

  examples/hnet_chunk_dechunk.mlir  (@hnet_chunk, @hnet_dechunk: B=2, L=1024,
                                     D=256, bf16)
  examples/word_pooling.mlir        (@word_pool, @word_unpool: B=2, L=512,
                                     D=128, f32)

Inputs are generated deterministically: byte sequences with word structure
(the hidden state of a byte is its word's vector plus noise, and consecutive
words lean away from each other, so H-Net's routing sees a boundary at
roughly every word start), identity-initialised W_q / W_k with a perturbation
(H-Net's initialisation), and whitespace-separated text for word pooling.
Checks, with the tolerances of run_chunk_oracle.py:

  * @hnet_chunk: probs against float64, boundaries (exact away from 0.5, and
    == probs > 0.5), chunk_indices / chunk_count with prune_oracle's select
    on Winnow's probs, chunks and gates with prune_oracle's compact, and the
    chunks against segment_reduce(first) on Winnow's boundaries (bit-exact);
  * @hnet_dechunk (fed the oracle's chunking): out against a float64 EMA
    plus the residual, within the EMA tolerance plus one bf16 ulp; padding 0;
  * @word_pool: counts exactly, means within the fp32 accumulation bound;
  * @word_unpool: bit-exact (one fp32 addition per element).

Prints one line per check and a final `N passed, M failed`; exits 1 on any
failure.

  run_chunk_recipes.py --compile winnow-compile --run winnow-run --workdir DIR
"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import chunk_oracle as orc  # noqa: E402
import prune_oracle as porc  # noqa: E402
from run_chunk_oracle import (  # noqa: E402
    EMA_ATOL, EMA_RTOL, boundary_checks, check_values_equal, run_programs,
    segment_checks, tool_args)
from run_prune_oracle import (  # noqa: E402
    Program, as_values, check_bits, check_exact, decode_input)

HNET = os.path.join(ROOT, "examples", "hnet_chunk_dechunk.mlir")
WORDS = os.path.join(ROOT, "examples", "word_pooling.mlir")
HB, HL, HD = 2, 1024, 256
HNET_LENGTHS = [1024, 700]
WB, WL, WD = 2, 512, 128
WORD_LENGTHS = [512, 301]
# D = 256 dot products in fp32 (any order) against float64.
HNET_P_ATOL = 2e-6


def recipe_program(module, source, name, args, results, check):
    p = Program(module, name, args, results, None, check)
    p.source = source
    return p


# ---------------------------------------------------------------------------
# H-Net
# ---------------------------------------------------------------------------


def word_structured_hidden(rng, B, L, D, mean_word=6.0, lean=-0.5, noise=0.15):
    """h[b, t] = e_{word(t)} + noise; consecutive word vectors have cosine ~lean."""
    h = np.zeros((B, L, D), np.float64)
    for b in range(B):
        e = rng.standard_normal(D)
        e /= np.linalg.norm(e)
        t = 0
        while t < L:
            n = 1 + int(rng.geometric(1.0 / mean_word)) - 1
            n = max(1, min(n, 16))
            scale = 1.0 + rng.random()
            for u in range(t, min(t + n, L)):
                h[b, u] = scale * (e + noise * rng.standard_normal(D) / np.sqrt(D))
            t += n
            f = rng.standard_normal(D)
            f -= e * (f @ e)
            f /= np.linalg.norm(f)
            e = lean * e + np.sqrt(1 - lean * lean) * f
    return h


def projections(rng, h, D):
    """W_q h and W_k h with identity-initialised W (plus a small perturbation)."""
    wq = np.eye(D) + 0.05 * rng.standard_normal((D, D)) / np.sqrt(D)
    wk = np.eye(D) + 0.05 * rng.standard_normal((D, D)) / np.sqrt(D)
    return (h @ wq.T).astype(np.float32), (h @ wk.T).astype(np.float32)


def hnet_chunk_program():
    args = [("queries", (HB, HL, HD), "bf16"), ("keys", (HB, HL, HD), "bf16"),
            ("lengths", (HB,), "i32"), ("hidden", (HB, HL, HD), "bf16")]
    results = [("probs", (HB, HL), "f32"), ("boundaries", (HB, HL), "i1"),
               ("chunk_indices", (HB, HL), "i32"), ("chunk_count", (HB,), "i32"),
               ("chunks", (HB, HL, HD), "bf16"), ("gates", (HB, HL), "f32")]

    def check(inp, out):
        ln = inp["lengths"]
        c = boundary_checks(inp["queries"], inp["keys"], ln, out["probs"], out["boundaries"],
                            p_atol=HNET_P_ATOL)
        got_p = np.asarray(out["probs"], np.float32)
        ei, ec = porc.select(got_p, ("threshold", 0.5, "gt"), HL, ln)
        c.append(check_exact("chunk_count (select on Winnow's probs)", ec, out["chunk_count"]))
        c.append(check_exact("chunk_indices (select on Winnow's probs)", ei, out["chunk_indices"]))
        (eh, eg), _ = porc.compact(out["chunk_indices"], out["chunk_count"],
                                   [inp["hidden"], got_p])
        c.append(check_bits("chunks (compact)", eh, out["chunks"], "bf16"))
        c.append(check_bits("gates (compact)", eg, out["gates"], "f32"))
        c += segment_checks(inp["hidden"], out["boundaries"].astype(bool), ln, "first", HL,
                            "bf16", out["chunks"], out["chunk_count"],
                            "chunks == segment_reduce first: ")
        nb = [int(x) for x in out["chunk_count"]]
        print("# hnet_chunk: chunk_count = %s for lengths %s (%.2f bytes/chunk)" % (
            nb, [int(x) for x in ln], sum(min(max(int(x), 0), HL) for x in ln) / max(sum(nb), 1)))
        return c

    return recipe_program("hnet", HNET, "hnet_chunk", args, results, check)


def hnet_chunk_inputs(rng, structured=True):
    if structured:
        h = word_structured_hidden(rng, HB, HL, HD)
    else:
        h = rng.standard_normal((HB, HL, HD))
    q, k = projections(rng, h, HD)
    return {"queries": q, "keys": k, "lengths": np.array(HNET_LENGTHS, np.int32),
            "hidden": h.astype(np.float32)}


def hnet_dechunk_program():
    args = [("z", (HB, HL, HD), "bf16"), ("gates", (HB, HL), "f32"),
            ("chunk_count", (HB,), "i32"), ("boundaries", (HB, HL), "i1"),
            ("lengths", (HB,), "i32"), ("residual", (HB, HL, HD), "bf16")]
    results = [("out", (HB, HL, HD), "bf16")]

    def check(inp, out):
        ln = inp["lengths"]
        zbar = orc.ema_scan(inp["z"], inp["gates"], inp["chunk_count"])
        # Each token's zbar (rounded to f32: within the EMA tolerance anyway).
        zt = orc.expand(zbar.astype(np.float32), inp["boundaries"], ln).astype(np.float64)
        ref = zt + inp["residual"].astype(np.float64)
        got = as_values(out["out"], "bf16").astype(np.float64)
        valid = np.zeros((HB, HL), bool)
        for b in range(HB):
            valid[b, :orc.valid_length(ln, b, HL)] = True
        tol = EMA_RTOL * np.abs(zt) + EMA_ATOL + np.maximum(orc.ulp(ref, "bf16"), orc.ulp(got, "bf16"))
        bad = ~(np.abs(got - ref) <= tol) & valid[..., None]
        c = []
        if bad.any():
            pos = tuple(int(x) for x in np.argwhere(bad)[0])
            c.append(("out = expand(ema_scan(z)) + residual", False,
                      "%d outside EMA tolerance + 1 ulp(bf16); first at %s: ref %.9g, got %.9g" % (
                          int(bad.sum()), pos, ref[pos], got[pos])))
        else:
            ulps = np.abs(got - ref) / orc.ulp(ref, "bf16")
            c.append(("out = expand(ema_scan(z)) + residual [max %.2f ulp(bf16)]" % float(ulps[valid].max()),
                      True, ""))
        c.append(check_values_equal("padding bytes are 0", np.zeros(int((~valid).sum()) * HD),
                                    got[~valid].reshape(-1)))
        return c

    return recipe_program("hnet", HNET, "hnet_dechunk", args, results, check)


def hnet_dechunk_inputs(rng, chunk_inp):
    """Chunking by the oracle (float64 p), a random main-network output."""
    q = decode_input(chunk_inp["queries"], "bf16")
    k = decode_input(chunk_inp["keys"], "bf16")
    ln = chunk_inp["lengths"]
    p, b = orc.boundary(q, k, ln)
    p32 = p.astype(np.float32)
    idx, cnt = porc.select(p32, ("threshold", 0.5, "gt"), HL, ln)
    (gates,), _ = porc.compact(idx, cnt, [p32])
    z = rng.standard_normal((HB, HL, HD)).astype(np.float32)
    for bb in range(HB):
        z[bb, cnt[bb]:] = 0  # the main network's padding rows
    res = (0.5 * rng.standard_normal((HB, HL, HD))).astype(np.float32)
    return {"z": z, "gates": gates, "chunk_count": cnt, "boundaries": b, "lengths": ln,
            "residual": res}


# ---------------------------------------------------------------------------
# Word pooling
# ---------------------------------------------------------------------------


def whitespace_text(rng, L, lead_spaces=0):
    out = [32] * lead_spaces
    while len(out) < L:
        out += list(rng.integers(97, 123, size=int(rng.integers(1, 11))))
        out += [32] * int(rng.choice([1, 1, 1, 2, 3]))
    return np.array(out[:L], np.int64)


def word_starts(text):
    prev = np.concatenate([[32], text[:-1]])
    return (text != 32) & (prev == 32)


def word_inputs(rng):
    table = rng.standard_normal((256, WD))
    texts = [whitespace_text(rng, WL), whitespace_text(rng, WL, lead_spaces=3)]
    x = np.stack([table[t] + 0.1 * rng.standard_normal((WL, WD)) for t in texts])
    starts = np.stack([word_starts(t) for t in texts])
    return x.astype(np.float32), starts


def word_pool_program():
    args = [("byte_states", (WB, WL, WD), "f32"), ("word_starts", (WB, WL), "i1"),
            ("lengths", (WB,), "i32")]
    results = [("words", (WB, WL, WD), "f32"), ("word_count", (WB,), "i32")]

    def check(inp, out):
        c = segment_checks(inp["byte_states"], inp["word_starts"], inp["lengths"], "mean", WL,
                           "f32", out["words"], out["word_count"])
        print("# word_pool: word_count = %s" % [int(x) for x in out["word_count"]])
        return c

    return recipe_program("word_pooling", WORDS, "word_pool", args, results, check)


def word_unpool_program():
    args = [("word_states", (WB, WL, WD), "f32"), ("word_starts", (WB, WL), "i1"),
            ("lengths", (WB,), "i32"), ("byte_states", (WB, WL, WD), "f32")]
    results = [("bytes_out", (WB, WL, WD), "f32")]

    def check(inp, out):
        ref = orc.expand(inp["word_states"], inp["word_starts"], inp["lengths"],
                         inp["byte_states"], "f32")
        return [check_bits("bytes_out = expand(word_states) + byte_states", ref,
                           out["bytes_out"], "f32")]

    return recipe_program("word_pooling", WORDS, "word_unpool", args, results, check)


# ---------------------------------------------------------------------------


def build(rng):
    chunk = hnet_chunk_program()
    structured = hnet_chunk_inputs(rng, True)
    chunk.add("word_structured_bytes/len{1024,700}", structured)
    chunk.add("unstructured_hidden/len{1024,700}", hnet_chunk_inputs(rng, False))
    dechunk = hnet_dechunk_program()
    dechunk.add("oracle_chunking_of_word_structured", hnet_dechunk_inputs(rng, structured))

    pool, unpool = word_pool_program(), word_unpool_program()
    x, starts = word_inputs(rng)
    ln = np.array(WORD_LENGTHS, np.int32)
    pool.add("whitespace_words/len{512,301}", {"byte_states": x, "word_starts": starts,
                                                "lengths": ln})
    starts_pad = starts.copy()
    starts_pad[1, WORD_LENGTHS[1]:] = True  # boundaries in the padding: ignored
    pool.add("word_starts_in_padding", {"byte_states": x, "word_starts": starts_pad,
                                        "lengths": ln})
    words, cnt, _ = orc.segment_reduce(x, starts, ln, "mean", WL)
    model = np.tanh(words @ (rng.standard_normal((WD, WD)) / np.sqrt(WD)))  # a stand-in word model
    for b in range(WB):
        model[b, cnt[b]:] = 0
    unpool.add("word_model_output", {"word_states": model.astype(np.float32),
                                     "word_starts": starts, "lengths": ln, "byte_states": x})
    unpool.add("random_word_states", {"word_states": rng.standard_normal((WB, WL, WD)).astype(np.float32),
                                      "word_starts": starts_pad, "lengths": ln, "byte_states": x})
    return [chunk, dechunk, pool, unpool]


def main():
    a = tool_args(__doc__.split("\n")[0]).parse_args()
    rng = np.random.default_rng(a.seed)
    progs = build(rng)
    if a.filter:
        progs = [p for p in progs if a.filter in p.name]
    return run_programs(progs, a, "run_chunk_recipes.py")


if __name__ == "__main__":
    sys.exit(main())

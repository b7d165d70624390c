#!/usr/bin/python3
"""Compile and run examples/fastv_llava15.mlir, and check it against the oracle.

FastV on LLaVA-1.5 shapes: B = 4 requests (ragged: 576, 576, 301 and 0 valid
image tokens), 32 heads of dimension 128, 576 image tokens, hidden size 4096
in bf16, keep 25 % (floor). Deterministic inputs (fixed seed); the row
log-sum-exp comes from the whole causal row (35 system-prompt tokens, the
first an attention sink of a different strength in every head, the image,
40 text tokens). Checks:

  * scores (fp32) against a float64 reference: rtol 1e-4, atol 1e-6;
  * kept indices and counts exactly against the oracle's selection applied to
    the scores Winnow returned (near-equal scores may legitimately order
    differently between fp32 and float64, so the selection is judged on
    Winnow's own scores; agreement with the float64 selection is reported);
  * kept hidden rows (bit for bit), kept positions and old_to_new exactly;
  * that a softmax over the image tokens alone would keep other tokens (the
    inputs tell the two readings apart).

Then the same for the batch-1 function (request 0 alone, no lengths).
Prints the counts, the first kept indices/positions per request and a
checksum of the kept rows, and ends with PASS or FAIL (exit status 0 / 1).

  /usr/bin/python3 examples/run_fastv.py [--compile PATH] [--run PATH] [--workdir DIR]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
import zlib

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "test", "oracle"))
import prune_oracle as orc  # noqa: E402

B, H, D_HEAD, N, D = 4, 32, 128, 576, 4096
CAPACITY = 144
LENGTHS = [576, 576, 301, 0]
BUDGET = ("keep_ratio", 0.25, "floor")
IMAGE_START = 35  # LLaVA-1.5: 35 system-prompt tokens precede the image
TEXT_TOKENS = 40  # text tokens after the image, the last one querying
RTOL, ATOL = 1e-4, 1e-6


def make_inputs(seed=0):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((B, H, 1, D_HEAD)).astype(np.float32)
    k = rng.standard_normal((B, H, N, D_HEAD)).astype(np.float32)
    # Some image tokens are salient: their keys lean towards the query, by a
    # per-token amount shared by all heads, so the head-mean has a clear
    # ranking (plus random near-ties from the noise).
    salience = (rng.random((B, 1, N, 1)) ** 4 * 3.0).astype(np.float32)
    qhat = q / np.linalg.norm(q, axis=-1, keepdims=True)
    k = k + salience * qhat * np.float32(np.sqrt(D_HEAD) / 4)
    # The rest of the causal row: the system prompt, whose first token is an
    # attention sink of a different strength in every head (as in real
    # LLaVA layers), and the text up to the last query row.
    sink = np.linspace(0.0, 9.0, H, dtype=np.float32).reshape(1, H, 1, 1)
    system = rng.standard_normal((B, H, IMAGE_START, D_HEAD)).astype(np.float32)
    system[:, :, :1] += sink * qhat * np.float32(np.sqrt(D_HEAD) / 4)
    text = rng.standard_normal((B, H, TEXT_TOKENS, D_HEAD)).astype(np.float32)
    q_bits, k_bits = orc.f32_to_bf16_bits(q), orc.f32_to_bf16_bits(k)
    hidden = rng.standard_normal((B, N, D)).astype(np.float32)
    positions = np.broadcast_to(IMAGE_START + np.arange(N, dtype=np.int32), (B, N)).copy()
    return {
        "q_last": q_bits,
        "image_keys": k_bits,
        "row_lse": row_lse(orc.bf16_bits_to_f32(q_bits), orc.bf16_bits_to_f32(k_bits),
                           orc.bf16_bits_to_f32(orc.f32_to_bf16_bits(system)),
                           orc.bf16_bits_to_f32(orc.f32_to_bf16_bits(text)), LENGTHS),
        "lengths": np.asarray(LENGTHS, dtype=np.int32),
        "hidden": orc.f32_to_bf16_bits(hidden),
        "positions": positions,
    }


def row_lse(q, image_keys, system_keys, text_keys, lengths):
    """Each head's log-sum-exp of the scaled scores over the whole causal row
    (system prompt, the valid image tokens, text), in float64, as the
    attention of layer K-1 would return it: [B, H, 1] f32."""
    out = np.zeros((B, H, 1), np.float32)
    for b in range(B):
        keys = np.concatenate([system_keys[b], image_keys[b][:, :lengths[b]], text_keys[b]],
                              axis=1).astype(np.float64)  # [H, L, d]
        s = np.einsum("hld,hd->hl", keys, q[b, :, 0].astype(np.float64)) / np.sqrt(D_HEAD)
        m = s.max(axis=1, keepdims=True)
        out[b, :, 0] = (m[:, 0] + np.log(np.exp(s - m).sum(axis=1))).astype(np.float32)
    return out


def run(cmd, what):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        print("%s failed (exit %d):\n%s%s" % (what, r.returncode,
                                              r.stdout.decode(errors="replace")[-3000:],
                                              r.stderr.decode(errors="replace")[-3000:]))
        return False
    return True


def check_function(args, artifact, func, inputs, arg_names, workdir, lengths):
    """Runs one function and checks it; returns (ok, outputs)."""
    fdir = os.path.join(workdir, func)
    os.makedirs(fdir, exist_ok=True)
    cmd = [args.run, artifact, "--function=" + func, "--raw-bf16", "--print=none",
           "--output-dir=" + fdir]
    for name in arg_names:
        path = os.path.join(fdir, "in_" + name + ".npy")
        np.save(path, inputs[name])
        cmd.append("--input=@" + path)
    t = time.time()
    if not run(cmd, "winnow-run --function=" + func):
        return False, None
    print("[%s] winnow-run: %.2fs" % (func, time.time() - t))
    out = {n: np.load(os.path.join(fdir, n + ".npy")) for n in
           ("scores", "kept_indices", "kept_count", "kept_hidden", "kept_positions",
            "old_to_new")}

    q = orc.bf16_bits_to_f32(inputs["q_last"])
    k = orc.bf16_bits_to_f32(inputs["image_keys"])
    hidden = orc.bf16_bits_to_f32(inputs["hidden"])
    ok = True

    def report(what, good, detail=""):
        nonlocal ok
        ok &= bool(good)
        print("[%s] %s %s%s" % (func, "PASS" if good else "FAIL", what,
                                ("  " + detail) if detail else ""))

    ref = orc.attn_score(q, k, lengths, lse=inputs["row_lse"])
    got = out["scores"].astype(np.float64)
    err = np.abs(got - ref)
    bad = ~(err <= ATOL + RTOL * np.abs(ref))
    report("scores within rtol=%g atol=%g" % (RTOL, ATOL), not bad.any(),
           "max abs err %.3g, %d outside" % (err.max(), int(bad.sum())))

    ei, ec = orc.select(out["scores"], BUDGET, CAPACITY, lengths)
    report("kept_count == oracle", np.array_equal(ec, out["kept_count"]),
           "expected %s got %s" % (ec.tolist(), out["kept_count"].tolist()))
    same = np.array_equal(ei, out["kept_indices"])
    detail = ""
    if not same:
        b = int(np.argwhere((ei != out["kept_indices"]).any(axis=1))[0][0])
        detail = "batch %d: expected %s... got %s..." % (
            b, ei[b, :16].tolist(), out["kept_indices"][b, :16].tolist())
    report("kept_indices == oracle(Winnow's scores)", same, detail)
    fi, fc = orc.select(ref.astype(np.float32), BUDGET, CAPACITY, lengths)
    ndiff = int(sum(len(set(fi[b, :fc[b]]) ^ set(out["kept_indices"][b, :out["kept_count"][b]]))
                    for b in range(len(fc))))
    print("[%s] info: selection on the float64 reference scores differs in %d index(es)"
          % (func, ndiff))
    # The inputs tell FastV's reading (softmax over the whole row) from a
    # softmax over the image tokens alone: their selections must differ.
    ai, ac = orc.select(orc.attn_score(q, k, lengths).astype(np.float32), BUDGET, CAPACITY,
                        lengths)
    overlap = [len(set(ai[b, :ac[b]]) & set(fi[b, :fc[b]])) for b in range(len(fc))]
    report("a softmax over the image tokens alone keeps other tokens",
           any(o < c for o, c in zip(overlap, fc.tolist())),
           "it shares %s of %s kept tokens" % (overlap, fc.tolist()))

    (eh, ep), emap = orc.compact(out["kept_indices"], out["kept_count"],
                                 [hidden, inputs["positions"]])
    report("kept_hidden bit-exact", np.array_equal(orc.f32_to_bf16_bits(eh), out["kept_hidden"]))
    report("kept_positions == oracle", np.array_equal(ep, out["kept_positions"]))
    report("old_to_new == oracle", np.array_equal(emap, out["old_to_new"]))

    counts = out["kept_count"].tolist()
    print("[%s] kept_count = %s" % (func, counts))
    for b in range(len(counts)):
        n = max(0, min(counts[b], CAPACITY))
        rows = out["kept_hidden"][b, :n]
        checksum = float(orc.bf16_bits_to_f32(rows).astype(np.float64).sum())
        crc = zlib.crc32(np.ascontiguousarray(rows).tobytes()) & 0xFFFFFFFF
        print("[%s]   batch %d (length %s): indices %s%s  positions %s%s  rows sum=%.6e crc32=%08x" % (
            func, b, "576" if lengths is None else lengths[b],
            out["kept_indices"][b, :8].tolist(), "..." if n > 8 else "",
            out["kept_positions"][b, :4].tolist(), "..." if n > 4 else "",
            checksum, crc))
    return ok, out


def main():
    ap = argparse.ArgumentParser(description="FastV (LLaVA-1.5 shapes) end to end")
    ap.add_argument("--compile", default=os.path.join(ROOT, "build", "bin", "winnow-compile"))
    ap.add_argument("--run", default=os.path.join(ROOT, "build", "bin", "winnow-run"))
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    workdir = args.workdir or tempfile.mkdtemp(prefix="winnow-fastv-")
    os.makedirs(workdir, exist_ok=True)
    t0 = time.time()

    src = os.path.join(ROOT, "examples", "fastv_llava15.mlir")
    artifact = os.path.join(workdir, "fastv_llava15.wnn")
    t = time.time()
    if not run([args.compile, src, "-o", artifact], "winnow-compile"):
        print("FAIL")
        return 1
    print("winnow-compile %s: %.2fs" % (os.path.basename(src), time.time() - t))

    inputs = make_inputs()
    ok4, out4 = check_function(args, artifact, "fastv_llava15", inputs,
                               ["q_last", "image_keys", "row_lse", "lengths", "hidden",
                                "positions"], workdir, LENGTHS)
    inputs1 = {n: inputs[n][:1]
               for n in ("q_last", "image_keys", "row_lse", "hidden", "positions")}
    ok1, out1 = check_function(args, artifact, "fastv_llava15_b1", inputs1,
                               ["q_last", "image_keys", "row_lse", "hidden", "positions"],
                               workdir, None)
    if ok4 and ok1:
        same = np.array_equal(out1["kept_indices"][0], out4["kept_indices"][0])
        print("info: batch-1 selection %s request 0 of the batch-4 run" %
              ("matches" if same else "DIFFERS from"))
    ok = ok4 and ok1
    print("total %.1fs (workdir %s)" % (time.time() - t0, workdir))
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

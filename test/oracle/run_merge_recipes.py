#!/usr/bin/python3
"""Compile and run the merging recipes and check them against merge_oracle.py.

  examples/tome_vit.mlir              (@tome_step, @tome_step_sized: ViT-B/16,
                                       B=4, N=197 -> 181 -> 165, C=768, bf16)
  examples/dymu_threshold_merge.mlir  (@dymu_merge: CLIP ViT-L/14@336,
                                       B=2, N=577, C=1024, f32, threshold 0.9)

Inputs are generated deterministically: the metric (keys averaged over
heads) is clustered like image patches (each patch token is one of a few
dozen unit "content" vectors plus noise, the class token is unrelated), with
a different noise level per image, so ToMe finds real matches and DyMU's
threshold keeps a different number of tokens per image. The second ToMe
step is fed the oracle's first step (its merged rows rounded to bf16 and its
sizes), so the sizes it must track are genuine. Checks, with the tolerances
of run_merge_oracle.py: the plan per batch row (near-tie rows skipped and
counted), the merge on Winnow's plan (sizes exact, unmerged rows bit-exact,
merged rows within the fp32 bound + 1 ulp), log(sizes) within 2 ulp(f32),
and DyMU's un-merge bit-exactly.

Prints one line per check and a final `N passed, M failed`; exits 1 on any
failure.

  run_merge_recipes.py --compile winnow-compile --run winnow-run --workdir DIR
"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import merge_oracle as orc  # noqa: E402
from chunk_oracle import round_to, ulp  # noqa: E402
from run_chunk_oracle import run_programs, tool_args  # noqa: E402
from run_merge_oracle import merge_checks, plan_checks  # noqa: E402
from run_prune_oracle import Program, check_bits, check_exact, decode_input  # noqa: E402

TOME = os.path.join(ROOT, "examples", "tome_vit.mlir")
DYMU = os.path.join(ROOT, "examples", "dymu_threshold_merge.mlir")
TB, TN, TC, TCM, TR = 4, 197, 768, 64, 16
DB, DN, DC, DCM, DTAU = 2, 577, 1024, 64, 0.9


def recipe_program(module, source, name, args, results, check):
    p = Program(module, name, args, results, None, check)
    p.source = source
    return p


def clustered_metric(rng, B, N, Cm, clusters, noise):
    """Patch tokens = one of `clusters` unit vectors + noise (noise[b] per
    image); token 0 (the class token) is unrelated."""
    m = np.zeros((B, N, Cm))
    for b in range(B):
        c = rng.standard_normal((clusters, Cm))
        c /= np.linalg.norm(c, axis=1, keepdims=True)
        assign = rng.integers(0, clusters, size=N)
        m[b] = c[assign] + noise[b] * rng.standard_normal((N, Cm)) / np.sqrt(Cm)
        m[b, 0] = rng.standard_normal(Cm)
    return m.astype(np.float32)


def log_check(what, sizes, got):
    ref = np.log(np.asarray(sizes, np.float64))
    got = np.asarray(got, np.float64)
    tol = 2 * ulp(ref, "f32")
    with np.errstate(invalid="ignore"):
        bad = np.where(np.isfinite(ref), ~(np.abs(got - ref) <= tol), ~(got == ref))
    if bad.any():
        pos = tuple(int(v) for v in np.argwhere(bad)[0])
        return (what, False, "%d outside 2 ulp(f32); first at %s: ref %r, got %r" % (
            int(bad.sum()), pos, ref[pos], got[pos]))
    return (what + " [within 2 ulp(f32)]", True, "")


# ---------------------------------------------------------------------------
# ToMe (ViT-B/16)
# ---------------------------------------------------------------------------


def tome_program(name, N, sized):
    C = N - TR
    args = [("x", (TB, N, TC), "bf16"), ("metric", (TB, N, TCM), "bf16")]
    if sized:
        args.append(("sizes", (TB, N), "f32"))
    results = [("merged", (TB, C, TC), "bf16"), ("sizes_out", (TB, C), "f32"),
               ("key_bias", (TB, C), "f32"), ("parent", (TB, N), "i32"), ("count", (TB,), "i32")]
    kw = dict(r=TR, class_token=True)

    def check(inp, out):
        c = plan_checks(inp["metric"], kw, out["parent"], out["count"], prefix="plan: ")
        c += merge_checks(out["parent"], out["count"], [inp["x"]], ["bf16"], inp.get("sizes"),
                          "weighted_mean", C, [out["merged"]], out["sizes_out"],
                          prefix="merge (on Winnow's plan): ")
        c.append(log_check("key_bias = log(sizes)", out["sizes_out"], out["key_bias"]))
        s = np.asarray(out["sizes_out"])
        print("# %s: count = %s; sizes sum per image = %s (= %s); largest row %d tokens" % (
            name, [int(v) for v in out["count"]], [float(v) for v in s.sum(axis=1)],
            [float(v) for v in (inp["sizes"].sum(axis=1) if sized else [N] * TB)], int(s.max())))
        return c

    return recipe_program("tome_vit", TOME, name, args, results, check)


def tome_inputs(rng):
    noise = [0.3, 0.5, 0.8, 1.2]
    m1 = clustered_metric(rng, TB, TN, TCM, 40, noise)
    x1 = rng.standard_normal((TB, TN, TC)).astype(np.float32)
    step1 = {"x": x1, "metric": m1}
    # The second step gets the oracle's first step: merged rows (rounded to
    # bf16) and their sizes, and the next block's keys.
    xd = decode_input(x1, "bf16")
    p, n, _ = orc.bipartite_plan(decode_input(m1, "bf16"), r=TR, class_token=True)
    (x2,), _, _, s2, _ = orc.scatter_merge(p, n, [xd], None, "weighted_mean", TN - TR)
    m2 = clustered_metric(rng, TB, TN - TR, TCM, 30, noise)
    step2 = {"x": round_to(x2, "bf16").astype(np.float32), "metric": m2,
             "sizes": s2.astype(np.float32)}
    return step1, step2


# ---------------------------------------------------------------------------
# DyMU (threshold)
# ---------------------------------------------------------------------------


def dymu_program():
    args = [("x", (DB, DN, DC), "f32"), ("metric", (DB, DN, DCM), "f32"),
            ("num_tokens", (DB,), "i32")]
    results = [("merged", (DB, DN, DC), "f32"), ("sizes", (DB, DN), "f32"),
               ("count", (DB,), "i32"), ("parent", (DB, DN), "i32"),
               ("unmerged", (DB, DN, DC), "f32")]
    kw = dict(threshold=DTAU, class_token=True)

    def check(inp, out):
        c = plan_checks(inp["metric"], kw, out["parent"], out["count"], prefix="plan: ")
        c += merge_checks(out["parent"], out["count"], [inp["x"]], ["f32"], None,
                          "weighted_mean", DN, [out["merged"]], out["sizes"],
                          prefix="merge (on Winnow's plan): ")
        exp = orc.unmerge(out["parent"], np.asarray(out["merged"], np.float32), DN)
        c.append(check_bits("unmerged = compact(parent, N) gather(merged)", exp,
                            out["unmerged"], "f32"))
        n = [int(v) for v in out["count"]]
        _, en, _ = orc.bipartite_plan(inp["metric"], **kw)
        c.append(check_exact("count is data-dependent (differs per image)", True, n[0] != n[1]))
        print("# dymu_merge: count = %s of %d (oracle %s)" % (n, DN, en.tolist()))
        return c

    return recipe_program("dymu", DYMU, "dymu_merge", args, results, check)


def dymu_inputs(rng):
    m = clustered_metric(rng, DB, DN, DCM, 50, [0.35, 0.4])
    return {"x": rng.standard_normal((DB, DN, DC)).astype(np.float32), "metric": m,
            "num_tokens": np.full((DB,), DN, np.int32)}


# ---------------------------------------------------------------------------


def build(rng):
    step1, step2 = tome_inputs(rng)
    t1 = tome_program("tome_step", TN, False)
    t1.add("clustered_keys/noise{0.3,0.5,0.8,1.2}", step1)
    t2 = tome_program("tome_step_sized", TN - TR, True)
    t2.add("oracle_step1_output+next_keys", step2)
    d = dymu_program()
    d.add("clustered_keys/noise{0.35,0.4}", dymu_inputs(rng))
    return [t1, t2, d]


def main():
    a = tool_args(__doc__.split("\n")[0]).parse_args()
    rng = np.random.default_rng(a.seed)
    progs = build(rng)
    if a.filter:
        progs = [p for p in progs if a.filter in p.name]
    return run_programs(progs, a, "run_merge_recipes.py")


if __name__ == "__main__":
    sys.exit(main())

"""Checks that no recipe allocates a full attention, similarity or
probability tensor.

For each examples/*.mlir and each target (cpu, cuda), compiles to the loop
level (`--compile-to=loops`, after fusion and bufferization: every buffer a
function allocates is a memref.alloc or memref.alloca there) and compares
every allocation with the tensors the reference implementations
materialise, derived from the recipe's own ops:

* tok.attn_score on q [B, H, Q, D] and keys [B, H, N, D]: the attention
  matrix [B, H, Q, N] (fp32);
* tok.bipartite_plan on [B, N, D]: the similarity matrix of the two sets
  [B, ceil(N/2), floor(N/2)];
* tok.spec_verify / tok.tree_verify on logits [B, T, V]: the probability
  tensor [B, T, V].

A floating-point allocation with as many elements as one of these fails
the check (integer buffers of that size, such as tok.select's kept flags
over a vocabulary, are not probabilities). Prints
per recipe and target the number of allocations and the largest one.
"""
import argparse
import glob
import os
import re
import subprocess
import sys

TENSOR = r"tensor<([0-9x]+)x([a-z0-9]+)>"


def dims(text):
    return [int(d) for d in text.split("x")]


def product(values):
    out = 1
    for v in values:
        out *= v
    return out


def forbidden_tensors(tok_ir):
    """(name, element count) of the tensors the references materialise."""
    out = []
    for line in tok_ir.splitlines():
        types = [dims(m.group(1)) for m in re.finditer(TENSOR, line)]
        if "tok.attn_score" in line and len(types) >= 2:
            q, k = types[0], types[1]
            out.append(("attention " + "x".join(map(str, q[:3] + [k[2]])),
                        product(q[:3]) * k[2]))
        elif "tok.bipartite_plan" in line and types:
            b, n = types[0][0], types[0][1]
            out.append(("similarity %dx%dx%d" % (b, (n + 1) // 2, n // 2),
                        b * ((n + 1) // 2) * (n // 2)))
        elif ("tok.spec_verify" in line or "tok.tree_verify" in line) and types:
            logits = types[0]
            out.append(("probabilities " + "x".join(map(str, logits)),
                        product(logits)))
    return out


ALLOC = re.compile(r"memref\.alloca?\(\)[^:]*: memref<([0-9x]+)x([a-z0-9]+)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--compile", required=True)
    ap.add_argument("--examples", required=True)
    a = ap.parse_args()
    failed = 0
    for source in sorted(glob.glob(os.path.join(a.examples, "*.mlir"))):
        name = os.path.splitext(os.path.basename(source))[0]
        # The printed tok IR has one op per line with its types.
        tok_ir = subprocess.run([a.compile, source, "--compile-to=tok"],
                                capture_output=True, text=True).stdout
        forbidden = forbidden_tensors(tok_ir)
        for target in ("cpu", "cuda"):
            done = subprocess.run(
                [a.compile, source, "--target=" + target, "--compile-to=loops"],
                capture_output=True, text=True)
            if done.returncode != 0:
                failed += 1
                print("FAIL %s (%s): %s" % (name, target, done.stderr[:300]))
                continue
            allocs = [(product(dims(m.group(1))), m.group(2))
                      for m in ALLOC.finditer(done.stdout)]
            sizes = [count for count, _ in allocs]
            floats = {count for count, element in allocs
                      if element in ("f32", "f16", "bf16", "f64")}
            bad = [f for f, count in forbidden if count in floats]
            if bad:
                failed += 1
                print("FAIL %s (%s): allocates the %s tensor" % (
                    name, target, ", ".join(bad)))
                continue
            print("PASS %s (%s): %d allocation(s), largest %d elements; "
                  "checked %s" % (name, target, len(sizes), max(sizes or [0]),
                                  ", ".join(f for f, _ in forbidden) or "-"))
    print("%d checks failed" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

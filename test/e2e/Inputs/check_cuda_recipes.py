"""Compiles every recipe for cpu and cuda and checks the GPU code.

For each examples/*.mlir: one `winnow-compile --target=cpu,cuda` with
--dump-kernels, then checks that every kernel module has PTX for each
requested architecture, that no PTX declares an external function (the
driver could not resolve it at load time), that the artifact lists the cuda
target with the expected cubins, and prints the kernel count and compile
time per recipe (FileCheck pins the counts).
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--compile", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--examples", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--ptx-only", action="store_true",
                    help="no CUDA toolkit: embed PTX only (--cuda-cubin=none)")
    a = ap.parse_args()

    archs = ["sm_90"] if a.ptx_only else ["sm_80", "sm_90"]
    failed = 0
    for source in sorted(glob.glob(os.path.join(a.examples, "*.mlir"))):
        name = os.path.splitext(os.path.basename(source))[0]
        dump = os.path.join(a.workdir, name)
        artifact = os.path.join(a.workdir, name + ".wnn")
        cmd = [a.compile, source, "--target=cpu,cuda", "--dump-kernels=" + dump,
               "-o", artifact]
        if a.ptx_only:
            cmd.append("--cuda-cubin=none")
        start = time.time()
        done = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.time() - start
        problems = []
        if done.returncode != 0:
            problems.append("compile failed: " + done.stderr.strip()[:400])
        else:
            modules = sorted({f.split(".")[0] for f in os.listdir(dump)})
            for module in modules:
                for arch in archs:
                    path = os.path.join(dump, "%s.%s.ptx" % (module, arch))
                    if not os.path.exists(path):
                        problems.append("no PTX for %s %s" % (module, arch))
                        continue
                    text = open(path).read()
                    if ".extern .func" in text:
                        problems.append("%s: %s" % (path, re.search(
                            r"\.extern \.func[^\n]*", text).group(0)))
                    if ".entry " not in text:
                        problems.append("%s has no kernel entry" % path)
            listing = subprocess.run([a.run, artifact, "--list"],
                                     capture_output=True, text=True).stdout
            target = re.search(r"cuda ([^,]*), host", listing)
            expected = " ".join(archs[:0] if a.ptx_only else archs)
            if not target:
                problems.append("no cuda target in the manifest")
            elif a.ptx_only and "ptx sm_90" not in target.group(1):
                problems.append("target lists %r" % target.group(1))
            elif not a.ptx_only and not target.group(1).startswith(expected):
                problems.append("target lists %r" % target.group(1))
            kernels = re.search(r"kernels: (.*)", listing)
            count = len(kernels.group(1).split(", ")) if kernels else 0
        if problems:
            failed += 1
            print("FAIL %s: %s" % (name, "; ".join(problems)))
        else:
            print("PASS %s: %d kernel(s) (%.2f s for cpu + cuda %s)" % (
                name, count, seconds, "+".join(archs)))
    print("%d recipes failed" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

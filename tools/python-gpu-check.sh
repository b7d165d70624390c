#!/usr/bin/env bash
# The winnow Python package on a GPU (docs/python.md). The GPU machine has
# no compiler, so everything is compiled here:
#
#   tools/python-gpu-check.sh prepare BUNDLE   # here: package, tests, artifacts
#   BUNDLE/run.sh OUT_DIR                       # GPU machine: pytest + overhead
#
# run.sh runs python/tests/test_cuda.py (CUDA tensors, the caller's stream,
# CUDA-graph capture and replay, operators, torch.compile) and
# bench/python_overhead.py --device=cuda, writing both reports to OUT_DIR.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${WINNOW_BUILD_DIR:-$root/build}"
python=/usr/bin/python3

[[ "${1:-}" == "prepare" && -n "${2:-}" ]] || {
  echo "usage: $0 prepare BUNDLE" >&2; exit 2; }
bundle="$2"
package="$build/python/winnow"
[[ -f "$package/_native.abi3.so" ]] || {
  echo "python-gpu-check: error: $package is not built (tools/build.sh)" >&2; exit 3; }

rm -rf "$bundle"
mkdir -p "$bundle/python/winnow" "$bundle/tests" "$bundle/artifacts"
cp "$root"/python/winnow/*.py "$package/_native.abi3.so" "$bundle/python/winnow/"
# The extension finds the runtime next to itself ($ORIGIN run path).
cp "$(readlink -f "$build/lib/libwinnow_runtime.so")" \
   "$bundle/python/winnow/libwinnow_runtime.so"
cp "$root"/python/tests/conftest.py "$root"/python/tests/test_cuda.py "$bundle/tests/"
cp "$root/bench/python_overhead.py" "$bundle/"

PYTHONPATH="$build/python:$root/python/tests:$root/bench" "$python" - "$bundle" <<'PY'
import os, sys
import conftest, python_overhead, winnow
out = os.path.join(sys.argv[1], "artifacts")
programs = dict(conftest.GPU_PROGRAMS, overhead=python_overhead.PROGRAM)
for name, source in programs.items():
    winnow.compile(source, target="cpu,cuda", name=name,
                   output=os.path.join(out, name + ".wnn"))
print(f"python-gpu-check: {len(programs)} artifacts in {out}")
PY

cat > "$bundle/run.sh" <<'RUN'
#!/usr/bin/env bash
# Runs on the GPU machine: BUNDLE/run.sh OUT_DIR
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:?usage: run.sh OUT_DIR}"
mkdir -p "$out"
export PYTHONPATH="$here/python:$here/tests" WINNOW_PREBUILT_DIR="$here/artifacts"
status=0
timeout 180 python3 -m pytest -q -p no:cacheprovider -rs "$here/tests/test_cuda.py" \
  --junitxml="$out/python-cuda-tests.xml" 2>&1 | tee "$out/python-cuda-tests.txt" || status=1
timeout 120 python3 "$here/python_overhead.py" --device=cuda \
  --artifact "$here/artifacts/overhead.wnn" --iterations 5000 --repeats 5 \
  --out "$out/python-overhead-cuda.json" || status=1
exit $status
RUN
chmod +x "$bundle/run.sh"
du -sh "$bundle" | sed 's/^/python-gpu-check: bundle /'

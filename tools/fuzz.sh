#!/usr/bin/env bash
# Builds the libFuzzer targets (ASan + UBSan, build-asan/) and fuzzes them.
#
#   tools/fuzz.sh [--seconds N | --runs N] [--out DIR] [TARGET...]
#
# TARGETs: artifact artifact-resealed npy tok-parse tok-pipeline (default:
# all, 60 s each). Seed corpora are made fresh in DIR/seeds (examples,
# dialect tests, compiled artifacts, NumPy-written .npy files, and every
# input in test/fuzz/regressions); what the fuzzer adds stays in
# DIR/corpus/<target> across runs. A crash is written to DIR/crashes/<target>/
# and makes the script exit non-zero. DIR/summary.md gets one row per target
# (executions, coverage, crashes) and, for the two artifact targets, which
# functions of the loader's validation they reached.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds=60
runs=""
out=""
targets=()
while (($#)); do
  case "$1" in
  --seconds) seconds="$2"; shift 2 ;;
  --runs) runs="$2"; shift 2 ;;
  --out) out="$2"; shift 2 ;;
  -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
  *) targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=(artifact artifact-resealed npy tok-parse tok-pipeline)
build="${WINNOW_ASAN_BUILD_DIR:-$root/build-asan}"
out="${out:-$build/fuzz}"

"$root/tools/install-deps.sh" --sanitizers
source "$root/tools/lib/sanitizer-build.sh"
sanitizer_build "$build" address,undefined -DWINNOW_FUZZERS=ON -- \
  winnow-compile $(printf 'winnow-fuzz-%s ' "${targets[@]}")

# --- Seeds ------------------------------------------------------------------
seeds="$out/seeds"
rm -rf "$seeds"
mkdir -p "$seeds"/{artifact,npy,tok-parse,tok-pipeline} "$out/crashes" "$out/logs"
# One file per `// -----` split of every dialect test and example.
/usr/bin/python3 - "$root" "$seeds/tok-parse" <<'PY'
import glob, os, sys
root, dest = sys.argv[1:]
files = glob.glob(os.path.join(root, "examples", "*.mlir")) + \
        glob.glob(os.path.join(root, "test", "Dialect", "Tok", "*.mlir")) + \
        glob.glob(os.path.join(root, "test", "reliability", "Inputs", "*.mlir"))
n = 0
for path in sorted(files):
    for part in open(path).read().split("\n// -----\n"):
        with open(os.path.join(dest, "%04d.mlir" % n), "w") as f:
            f.write(part)
        n += 1
PY
cp "$root"/examples/*.mlir "$seeds/tok-pipeline/"
/usr/bin/python3 - "$seeds/npy" <<'PY'
import io, os, sys
import numpy as np
dest = sys.argv[1]
arrays = [np.float32(1.5), np.zeros((0,), np.float32), np.arange(6, dtype=np.int32).reshape(2, 3),
          np.array([True, False, True]), np.arange(24, dtype=np.int64).reshape(1, 2, 3, 4),
          np.array([1, -2], np.int8), np.array([3, 4], np.int16), np.array([0.5, 2], np.float16),
          np.array([1e300], np.float64), np.array([0x3f80, 0x4000], np.uint16)]
for i, a in enumerate(arrays):
    np.save(os.path.join(dest, "%02d.npy" % i), a)
    for version in ((2, 0), (3, 0)):
        buf = io.BytesIO()
        np.lib.format.write_array(buf, a, version=version)
        open(os.path.join(dest, "%02d-v%d.npy" % (i, version[0])), "wb").write(buf.getvalue())
PY
compile="$build/bin/winnow-compile"
"$compile" "$root/test/reliability/Inputs/mutation-subject.mlir" -o "$seeds/artifact/subject.wnn"
"$compile" "$root/examples/tome_vit.mlir" -o "$seeds/artifact/tome.wnn"
"$compile" "$root/examples/spec_chain_greedy.mlir" --target=cpu,cuda --cuda-cubin=none \
  -o "$seeds/artifact/spec-greedy-cpu-cuda.wnn"
# Dynamic batches (format 2.1): symbols, bounds and dim_symbols to mutate.
"$compile" "$root/test/e2e/Inputs/dynamic-batch.mlir" -o "$seeds/artifact/dynamic-batch.wnn"
for target in artifact npy tok-parse tok-pipeline; do
  cp -r "$root/test/fuzz/regressions/$target/." "$seeds/$target/"
done

# --- Fuzzing ----------------------------------------------------------------
summary="$out/summary.md"
{
  echo "| target | executions | exec/s | coverage (cov / ft) | corpus | crashes |"
  echo "|---|---|---|---|---|---|"
} > "$summary"
status=0
for target in "${targets[@]}"; do
  seed_dir="$seeds/${target%-resealed}"
  dict="$root/test/fuzz/dictionaries/${target%-*}.dict"
  [[ "$target" == artifact* ]] && dict="$root/test/fuzz/dictionaries/artifact.dict"
  [[ "$target" == tok-* ]] && dict="$root/test/fuzz/dictionaries/tok.dict"
  corpus="$out/corpus/$target"
  crashes="$out/crashes/$target"
  mkdir -p "$corpus" "$crashes"
  limit=(-max_total_time="$seconds")
  [[ -n "$runs" ]] && limit=(-runs="$runs")
  extra=()
  [[ "$target" == artifact* ]] && extra=(-print_coverage=1)
  log="$out/logs/$target.log"
  echo "== fuzzing $target (${limit[*]})"
  set +e
  "$build/bin/winnow-fuzz-$target" "$corpus" "$seed_dir" -dict="$dict" \
    "${limit[@]}" -rss_limit_mb=4096 -timeout=60 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$crashes/" "${extra[@]}" > "$log" 2>&1
  code=$?
  set -e
  executions=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  rate=$(grep -o 'exec/s: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
  coverage=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 | sed 's/cov: \([0-9]*\) ft: \([0-9]*\)/\1 \/ \2/' || true)
  size=$(ls "$corpus" | wc -l)
  found=$(ls "$crashes" | wc -l)
  echo "| $target | ${executions:-?} | ${rate:-?} | ${coverage:-?} | $size | $found |" >> "$summary"
  if ((code != 0 || found != 0)); then
    echo "   CRASH in $target (exit $code): see $log and $crashes" >&2
    status=1
  fi
done
for target in artifact artifact-resealed; do
  log="$out/logs/$target.log"
  [[ -f "$log" ]] || continue
  /usr/bin/python3 - "$target" "$log" >> "$summary" <<'PY'
import re, sys
target, log = sys.argv[1:]
rows, covered, total = [], 0, 0
for line in open(log, errors="replace"):
    m = re.match(r"COVERED_FUNC: hits: \d+ edges: (\d+)/(\d+) (.*) (\S*(ArtifactReader|ElfImage)\.cpp):(\d+)", line)
    if not m:
        continue
    name = re.sub(r"\(anonymous namespace\)::", "", m.group(3)).split("(")[0].split("::")[-1]
    rows.append("| %s | %s:%s | %s/%s |" % (name, m.group(4).rsplit("/", 1)[-1], m.group(6), m.group(1), m.group(2)))
    covered += int(m.group(1))
    total += int(m.group(2))
print("\nLoader validation reached by %s: %d of %d edges in the functions of ArtifactReader.cpp "
      "and ElfImage.cpp it entered\n" % (target, covered, total))
print("| function | where | edges |\n|---|---|---|")
print("\n".join(sorted(set(rows))))
PY
done
cat "$summary"
exit "$status"

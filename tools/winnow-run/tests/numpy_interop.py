"""Checks winnow-run's .npy reading and writing against NumPy itself.

Usage: numpy_interop.py WINNOW_RUN ARTIFACT_DIR WORK_DIR
"""
import os
import subprocess
import sys

import numpy as np

winnow_run, artifacts, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)


def run(*args):
    result = subprocess.run([winnow_run, *args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"winnow-run {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


# f32 in (NumPy-written, format 1.0), f32 out.
x = np.arange(6, dtype=np.float32).reshape(2, 3) / 3
np.save(f"{work}/x.npy", x)
run(f"{artifacts}/add_one.wnn", f"--input=@{work}/x.npy", f"--output=@{work}/y.npy")
y = np.load(f"{work}/y.npy")
assert y.dtype == np.float32 and y.shape == (2, 3), (y.dtype, y.shape)
np.testing.assert_array_equal(y, x + np.float32(1))

# Format 2.0 header.
np.lib.format.write_array(open(f"{work}/x2.npy", "wb"), x, version=(2, 0))
run(f"{artifacts}/add_one.wnn", f"--input=@{work}/x2.npy", f"--output=@{work}/y2.npy")
np.testing.assert_array_equal(np.load(f"{work}/y2.npy"), x + np.float32(1))

# bf16 from f32 (round to nearest even) and back as f32.
values = np.array([1.0, 1.00390625, 1.01171875, -3.3], dtype=np.float32)
np.save(f"{work}/b.npy", values)
run(f"{artifacts}/test_entries.wnn", "--function=copy_bf16",
    f"--input=@{work}/b.npy", f"--output=@{work}/bo.npy")
bits = values.view(np.uint32)
rne = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint32) << 16
np.testing.assert_array_equal(np.load(f"{work}/bo.npy"), rne.view(np.float32))

# bool in, bool out; ragged outputs via --output-dir.
np.save(f"{work}/m.npy", np.array([True, False, True]))
run(f"{artifacts}/test_entries.wnn", "--function=logical_not",
    f"--input=@{work}/m.npy", f"--output-dir={work}/out")
r = np.load(f"{work}/out/r.npy")
assert r.dtype == np.bool_, r.dtype
np.testing.assert_array_equal(r, [False, True, False])
print("numpy interop ok")

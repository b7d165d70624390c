"""bench.py reads winnow-run's timing lines with measure.py's parsers; this runs the real winnow-run on the
fake CUDA driver (runtime/tests/cuda) and checks that every line is understood, so the two cannot drift.

usage: measure_parses_winnow_run.py WINNOW_RUN CUDA_FAKE.wnn FAKE_DRIVER.so
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import measure  # noqa: E402


def main(winnow_run, artifact, driver):
    env = dict(os.environ, WINNOW_CUDA_DRIVER=driver)
    command = [winnow_run, artifact, "--device=cuda", "--function=add_one", "--input=2x3xf32=1",
               "--print=none", "--bench=3", "--bench-launches=2"]
    proc = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=True)
    bench = measure.parse_winnow_bench(proc.stdout)
    assert sorted(bench["conditions"]) == ["cold L2, direct call", "cold L2, graph replay",
                                           "warm L2, direct call", "warm L2, graph replay"], bench
    assert bench["calls"] == 3 and bench["note"].endswith("cold L2, graph replay"), bench
    launches = measure.parse_winnow_launches(proc.stdout)
    assert len(launches) == 1, launches
    assert launches[0]["kernel"] == "add_kernel" and launches[0]["block"] == [128, 1, 1], launches
    try:
        measure.parse_winnow_launches("y: 2x3xf32 sum=0\n")
    except ValueError:
        pass
    else:
        raise AssertionError("output without a launches block was accepted")
    print("ok: %d conditions, %d launch" % (len(bench["conditions"]), len(launches)))


if __name__ == "__main__":
    main(*sys.argv[1:])

"""Threads on the CPU: Module.threads (and load(threads=...)) sets the
threads each call uses, every count gives the same bits, the runtime's one
pool is shared by concurrent Python callers, and bad counts raise."""

import os
import threading

import numpy as np
import pytest

import winnow

# Eight rows of 4096 scores: each row's top-64 is enough work for the
# compiler to run rows on threads.
TOP64 = """
func.func @top64(%scores: tensor<8x4096xf32> {tok.name = "scores"},
                 %lengths: tensor<8xi32> {tok.name = "lengths"})
    -> (tensor<8x64xi32> {tok.name = "indices"},
        tensor<8xi32> {tok.name = "count"}) {
  %idx, %n = tok.select #tok.top_k<64> of %scores lengths %lengths
      : (tensor<8x4096xf32>, tensor<8xi32>) -> (tensor<8x64xi32>, tensor<8xi32>)
  return %idx, %n : tensor<8x64xi32>, tensor<8xi32>
}
"""


@pytest.fixture(scope="module")
def artifact():
    return winnow.compile(TOP64)


@pytest.fixture(scope="module")
def inputs():
    rng = np.random.default_rng(7)
    # Coarse values: many ties, which the lowest index must win on every
    # thread count.
    scores = rng.integers(0, 50, (8, 4096)).astype(np.float32)
    lengths = np.array([4096, 0, 1, 63, 64, 65, 2000, 4095], dtype=np.int32)
    return scores, lengths


def delta(before, after, key):
    return after[key] - before[key]


def test_every_thread_count_gives_the_same_bits(artifact, inputs):
    reference = None
    for threads in (1, 2, 3):
        module = artifact.load(threads=threads)
        assert module.threads == threads
        before = winnow.thread_stats()
        indices, count = module.top64(*inputs)
        after = winnow.thread_stats()
        if threads == 1:
            assert delta(before, after, "parallel_loops") == 0
            reference = (indices.copy(), count.copy())
        else:
            assert delta(before, after, "parallel_loops") >= 1
            np.testing.assert_array_equal(indices, reference[0])
            np.testing.assert_array_equal(count, reference[1])
    assert list(reference[1]) == [64, 0, 1, 63, 64, 64, 64, 64]


def test_default_and_setting(artifact):
    module = artifact.load()
    expected = os.environ.get("WINNOW_NUM_THREADS")
    default = (int(expected) if expected and int(expected) > 0
               else len(os.sched_getaffinity(0)))
    assert module.threads == min(default, 256)
    module.threads = 2
    assert module.threads == 2
    module.threads = None
    assert module.threads == min(default, 256)
    with pytest.raises(winnow.InvalidArgumentError,
                       match="num_threads is 257, above the limit of 256"):
        module.threads = 257
    with pytest.raises(ValueError, match="threads must be 0 or more"):
        module.threads = -1
    with pytest.raises(TypeError, match="threads must be an int or None"):
        module.threads = "2"


def test_concurrent_callers_share_one_pool(artifact, inputs):
    module = artifact.load(threads=3)
    expected = module.top64(*inputs)
    before = winnow.thread_stats()
    failures = []

    def caller():
        for _ in range(5):
            got = module.top64(*inputs)
            if any(not np.array_equal(g, e) for g, e in zip(got, expected)):
                failures.append(got)

    callers = [threading.Thread(target=caller) for _ in range(6)]
    for thread in callers:
        thread.start()
    for thread in callers:
        thread.join()
    after = winnow.thread_stats()
    assert not failures
    # 30 calls of 3 threads: the pool holds at most 2 workers (or the ones
    # an earlier test started), never one per caller.
    assert after["pool_threads"] <= max(before["pool_threads"], 2)

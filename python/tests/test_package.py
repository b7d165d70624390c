"""The winnow package: compile, load, call on NumPy, torch and DLPack
tensors, out=, signatures, and errors that name what is wrong."""

import inspect
import re
import os
import pickle

import numpy as np
import pytest
import torch

import winnow
from conftest import PRUNE, TOP2


def top_k_reference(scores, lengths, k):
    """Kept indices (ascending, -1 padded) and counts of top-k over each
    row's first lengths[b] entries, ties to the lower index."""
    rows, width = scores.shape
    indices = np.full((rows, k), -1, np.int32)
    counts = np.zeros(rows, np.int32)
    for b in range(rows):
        n = int(min(max(lengths[b], 0), width))
        order = sorted(range(n), key=lambda j: (-scores[b, j], j))[:k]
        counts[b] = len(order)
        indices[b, :len(order)] = sorted(order)
    return indices, counts


def random_inputs(seed):
    rng = np.random.default_rng(seed)
    # Few distinct values, so ties are common and the tie rule is tested.
    scores = rng.integers(0, 3, size=(3, 5)).astype(np.float32)
    lengths = np.array([5, 1, 3], np.int32)
    return scores, lengths


def test_compile_and_call_numpy(top2):
    for seed in range(5):
        scores, lengths = random_inputs(seed)
        result = top2.top2(scores, lengths)
        expected_indices, expected_counts = top_k_reference(scores, lengths, 2)
        assert isinstance(result.indices, np.ndarray)
        np.testing.assert_array_equal(result.indices, expected_indices)
        np.testing.assert_array_equal(result.count, expected_counts)
        # A namedtuple: positional access works too.
        indices, count = result
        assert indices is result.indices


def test_torch_inputs_give_torch_results_and_write_out(top2):
    scores, lengths = random_inputs(7)
    s, n = torch.from_numpy(scores), torch.from_numpy(lengths)
    result = top2.top2(s, n)
    assert isinstance(result.indices, torch.Tensor)
    assert result.indices.dtype == torch.int32
    out = (torch.full((3, 2), 99, dtype=torch.int32),
           torch.full((3,), 99, dtype=torch.int32))
    returned = top2.top2(s, n, out=out)
    # Written in place, no copies: the same tensor objects come back.
    assert returned.indices is out[0] and returned.count is out[1]
    expected_indices, expected_counts = top_k_reference(scores, lengths, 2)
    np.testing.assert_array_equal(out[0].numpy(), expected_indices)
    np.testing.assert_array_equal(out[1].numpy(), expected_counts)


def test_zero_copy_inputs(top2):
    # A view with an offset into a larger buffer is read where it lies.
    scores, lengths = random_inputs(3)
    big = np.zeros((4, 5), np.float32)
    big[1:] = scores
    view = big[1:]
    assert not view.flags.owndata
    result = top2.top2(view, lengths)
    np.testing.assert_array_equal(result.indices,
                                  top_k_reference(scores, lengths, 2)[0])


class DLPackStub:
    """A foreign tensor that only speaks the DLPack protocol (what a CuPy
    array does), exporting a NumPy array's memory."""

    def __init__(self, array):
        self.array = array
        self.exports = 0

    def __dlpack__(self, stream=None):
        self.exports += 1
        return self.array.__dlpack__()

    def __dlpack_device__(self):
        return self.array.__dlpack_device__()


def test_dlpack_protocol_in_and_out(top2):
    scores, lengths = random_inputs(11)
    indices = np.full((3, 2), 7, np.int32)
    count = np.full((3,), 7, np.int32)
    stubs = [DLPackStub(a) for a in (scores, lengths, indices, count)]
    top2.top2(stubs[0], stubs[1], out=(stubs[2], stubs[3]))
    assert [s.exports for s in stubs] == [1, 1, 1, 1]
    expected_indices, expected_counts = top_k_reference(scores, lengths, 2)
    # The results landed in the exporter's memory.
    np.testing.assert_array_equal(indices, expected_indices)
    np.testing.assert_array_equal(count, expected_counts)


def test_bf16_results_and_mixed_inputs(prune_artifact):
    module = winnow.load(prune_artifact)
    scores = torch.tensor([[0.1, 0.9, 0.3, 0.9, 0.2, 0.5],
                           [0.7, 0.1, 0.8, 0.0, 0.0, 0.0]])
    lengths = torch.tensor([6, 3], dtype=torch.int32)
    hidden = torch.arange(48, dtype=torch.float32).reshape(2, 6, 4).to(
        torch.bfloat16)
    result = module.prune(scores, lengths, hidden)
    assert result.indices.tolist() == [[1, 3], [0, 2]]
    assert result.count.tolist() == [2, 2]
    torch.testing.assert_close(result.kept_hidden,
                               hidden[[[0, 0], [1, 1]], [[1, 3], [0, 2]]])
    # NumPy has no bf16: allocating the results says so.
    with pytest.raises(TypeError, match="'kept_hidden' is bf16"):
        module.prune(scores.numpy(), lengths.numpy(),
                     np.zeros((2, 6, 4), np.float32))


def test_signature_and_help(top2):
    signature = top2.signatures["top2"]
    assert [s.name for s in signature.inputs] == ["scores", "lengths"]
    assert signature.inputs[0].dtype == "f32"
    assert signature.inputs[0].shape == (3, 5)
    assert signature.results[0].count_result == 1
    assert signature.results[1].count_result is None
    params = inspect.signature(top2.top2).parameters
    assert list(params) == ["scores", "lengths", "out"]
    assert re.search(r"scores +f32\[3, 5\]", top2.top2.__doc__)
    assert "entries past count[b] are padding" in top2.top2.__doc__
    assert "top2" in dir(top2)
    assert top2.device == "cpu"


def test_load_from_path_and_bytes(tmp_path, top2_artifact):
    path = tmp_path / "top2.wnn"
    top2_artifact.save(path)
    for source in (path, str(path), path.read_bytes(), top2_artifact):
        module = winnow.load(source)
        scores, lengths = random_inputs(1)
        np.testing.assert_array_equal(
            module.top2(scores, lengths).count,
            top_k_reference(scores, lengths, 2)[1])
    written = winnow.compile(TOP2, output=tmp_path / "again.wnn")
    assert written.path == str(tmp_path / "again.wnn")
    assert (tmp_path / "again.wnn").read_bytes() == written.data


def test_wrong_calls_raise_with_the_argument_named(top2):
    scores, lengths = random_inputs(0)
    with pytest.raises(winnow.InvalidArgumentError,
                       match="input 1 'lengths': expected dtype i32, got i64"):
        top2.top2(scores, lengths.astype(np.int64))
    with pytest.raises(ValueError, match="input 0 'scores': expected shape"):
        top2.top2(scores[:2], lengths)
    with pytest.raises(winnow.InvalidArgumentError,
                       match="not compact row-major"):
        top2.top2(np.asfortranarray(scores), lengths)
    with pytest.raises(TypeError, match=r"top2\(\) takes 2 tensors"):
        top2.top2(scores)
    with pytest.raises(TypeError, match="out= needs 2 tensors"):
        top2.top2(scores, lengths, out=(np.zeros((3, 2), np.int32),))
    with pytest.raises(TypeError, match="input 0 'scores': expected a tensor"):
        top2.top2(scores.tolist(), lengths)
    # Results that overlap an input are refused before anything is written.
    indices = np.zeros((3, 2), np.int32)
    with pytest.raises(winnow.InvalidArgumentError, match="overlap"):
        top2.top2(scores, lengths, out=(indices, lengths))
    with pytest.raises(AttributeError, match="no entry point 'prune'"):
        top2.prune


def test_transposed_torch_tensor_is_rejected_not_copied(top2):
    scores, lengths = random_inputs(0)
    transposed = torch.from_numpy(np.ascontiguousarray(scores.T)).t()
    assert not transposed.is_contiguous()
    with pytest.raises(winnow.InvalidArgumentError,
                       match=r"strides \[1, 3\] are not compact"):
        top2.top2(transposed, torch.from_numpy(lengths))
    # .contiguous() is the caller's explicit copy.
    result = top2.top2(transposed.contiguous(), torch.from_numpy(lengths))
    np.testing.assert_array_equal(result.indices.numpy(),
                                  top_k_reference(scores, lengths, 2)[0])


def test_corrupt_and_missing_artifacts(tmp_path, top2_artifact):
    data = bytearray(top2_artifact.data)
    data[len(data) // 2] ^= 0x40
    with pytest.raises(winnow.WinnowError, match="digest|corrupt|SHA"):
        winnow.load(bytes(data))
    with pytest.raises(winnow.DataLossError):
        winnow.load(top2_artifact.data[:100])
    with pytest.raises(winnow.NotFoundError):
        winnow.load(tmp_path / "missing.wnn")
    with pytest.raises(TypeError, match="takes a path, bytes"):
        winnow.load(42)


def test_no_gpu_is_a_clear_error(top2_artifact):
    # This machine has no CUDA driver; the GPU machine has one, and this
    # artifact has no cuda target, so either way binding fails clearly.
    with pytest.raises(winnow.WinnowError,
                       match="no CUDA driver|no target|cuda"):
        winnow.load(top2_artifact, device="cuda")
    with pytest.raises(ValueError, match="expected 'cpu', 'cuda' or 'cuda:N'"):
        winnow.load(top2_artifact, device="tpu")


def test_compile_errors_carry_source_locations():
    # An unknown op on the line before the return.
    broken = TOP2.replace("  return", "  %bad = tok.bogus %scores : "
                          "tensor<3x5xf32>\n  return")
    assert broken != TOP2
    with pytest.raises(winnow.CompileError) as info:
        winnow.compile(broken, name="broken")
    message = str(info.value)
    assert re.search(r"broken\.mlir:\d+:\d+: error: custom op 'tok.bogus' is "
                     "unknown", message)
    assert "error" in info.value.diagnostics
    # The temporary file's path never leaks into the message.
    assert "/tmp/winnow-" not in message
    with pytest.raises(ValueError, match="target 'tpu'"):
        winnow.compile(TOP2, target="tpu")
    with pytest.raises(FileNotFoundError, match="no such tok program"):
        winnow.compile("does/not/exist.mlir")


def test_compile_from_path_and_cuda_target(tmp_path):
    path = tmp_path / "top2.mlir"
    path.write_text(TOP2)
    artifact = winnow.compile(path, target="cpu,cuda", cuda_cubin="none")
    assert artifact.name == "top2.mlir"
    module = winnow.load(artifact)
    kinds = [t["kind"] for t in module.targets]
    # The CPU code twice (x86-64-v3 and its x86-64-v2 fallback), then CUDA.
    assert kinds == ["cpu", "cpu", "cuda"]
    assert [t["cpu"] for t in module.targets][:2] == ["x86-64-v3",
                                                     "x86-64-v2"]
    assert module.source_name.endswith("top2.mlir")
    single = winnow.load(winnow.compile(path, cpu="x86-64-v2"))
    assert [(t["kind"], t["cpu"]) for t in single.targets] == [
        ("cpu", "x86-64-v2")]


def test_emulated_gpu_mapping_gives_the_same_results(top2_artifact):
    emulated = winnow.load(
        winnow.compile(TOP2, emulate_cuda_on_cpu=True))
    plain = winnow.load(top2_artifact)
    for seed in range(3):
        scores, lengths = random_inputs(seed)
        a, b = emulated.top2(scores, lengths), plain.top2(scores, lengths)
        np.testing.assert_array_equal(a.indices, b.indices)


def test_missing_compiler_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("WINNOW_COMPILE", "/nonexistent/winnow-compile")
    with pytest.raises(FileNotFoundError, match="WINNOW_COMPILE names"):
        winnow.compile(TOP2)


def test_results_survive_the_module(top2_artifact):
    module = winnow.load(top2_artifact)
    scores, lengths = random_inputs(2)
    result = module.top2(scores, lengths)
    entry = module.top2
    del module
    # The entry point keeps its executable alive.
    again = entry(scores, lengths)
    np.testing.assert_array_equal(result.indices, again.indices)
    assert pickle.loads(pickle.dumps(again.indices)).shape == (3, 2)


def test_the_gil_is_released_during_calls(top2_artifact):
    import threading
    module = winnow.load(top2_artifact)
    scores, lengths = random_inputs(4)
    expected = top_k_reference(scores, lengths, 2)[0]
    failures = []

    def worker():
        for _ in range(200):
            if not np.array_equal(module.top2(scores, lengths).indices,
                                  expected):
                failures.append(1)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


def test_compile_cache(monkeypatch):
    import winnow._compile as compile_module
    runs = []
    real_run = compile_module.subprocess.run

    def counting_run(command, **kwargs):
        runs.append(command)
        return real_run(command, **kwargs)

    monkeypatch.setattr(compile_module.subprocess, "run", counting_run)
    text = TOP2.replace("@top2", "@top2_cached")
    first = winnow.compile(text)
    second = winnow.compile(text)
    assert len(runs) == 1 and second.data == first.data
    # Other options, or cache=False, run the compiler again.
    winnow.compile(text, fuse=False)
    winnow.compile(text, cache=False)
    assert len(runs) == 3
    winnow.compile(text, cpu_threads=2)
    assert len(runs) == 4 and "--cpu-threads=2" in runs[-1]
    with pytest.raises(winnow.CompileError,
                       match="--cpu-threads must be at least 1"):
        winnow.compile(text, cpu_threads=0)

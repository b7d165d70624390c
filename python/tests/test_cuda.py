"""The package on a GPU: calls on CUDA tensors, the caller's stream, out=,
CUDA-graph capture and replay, the operators and torch.compile. Skipped
without a CUDA GPU; on the GPU machine (no compiler) the artifacts come
from tools/python-gpu-check.sh prepare."""

import numpy as np
import pytest
import torch

import winnow
from conftest import GPU_PROGRAMS, artifact_for

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="no CUDA GPU here (tools/python-gpu-check.sh runs these on one)")


@pytest.fixture(scope="module")
def modules():
    loaded = {}
    for name, source in GPU_PROGRAMS.items():
        artifact = artifact_for(source, name, target="cpu,cuda")
        loaded[name] = (winnow.load(artifact, "cpu"),
                        winnow.load(artifact, "cuda"))
    return loaded


def prune_inputs(device, seed=0):
    generator = torch.Generator().manual_seed(seed)
    scores = torch.randint(0, 4, (2, 6), generator=generator).float()
    lengths = torch.tensor([6, 4], dtype=torch.int32)
    hidden = torch.randn(2, 6, 4, generator=generator).to(torch.bfloat16)
    return tuple(t.to(device) for t in (scores, lengths, hidden))


def test_cuda_matches_cpu(modules):
    cpu, cuda = modules["prune"]
    for seed in range(4):
        expected = cpu.prune(*prune_inputs("cpu", seed))
        result = cuda.prune(*prune_inputs("cuda", seed))
        assert result.indices.device.type == "cuda"
        for a, b in zip(result, expected):
            assert torch.equal(a.cpu(), b)


def test_runs_on_the_callers_stream(modules):
    _, cuda = modules["prune"]
    inputs = prune_inputs("cuda", 1)
    expected = cuda.prune(*inputs)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        # Queue work ahead of the call on the side stream: the call must be
        # ordered after it, so it sees the copied scores.
        scores = torch.empty_like(inputs[0])
        torch.cuda._sleep(1_000_000)
        scores.copy_(inputs[0])
        result = cuda.prune(scores, inputs[1], inputs[2])
    side.synchronize()
    for a, b in zip(result, expected):
        assert torch.equal(a, b)


def test_cuda_graph_capture_and_replay(modules):
    _, cuda = modules["prune"]
    inputs = prune_inputs("cuda", 2)
    signature = cuda.signatures["prune"]
    out = (torch.empty((2, 2), dtype=torch.int32, device="cuda"),
           torch.empty((2,), dtype=torch.int32, device="cuda"),
           torch.empty((2, 2, 4), dtype=torch.bfloat16, device="cuda"))
    assert [tuple(t.shape) for t in out] == [s.shape for s in
                                             signature.results]
    warm = torch.cuda.Stream()
    warm.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(warm):
        cuda.prune(*inputs, out=out)
    torch.cuda.current_stream().wait_stream(warm)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        cuda.prune(*inputs, out=out)
    for seed in range(3, 6):
        fresh = prune_inputs("cuda", seed)
        for target, source in zip(inputs, fresh):
            target.copy_(source)
        graph.replay()
        torch.cuda.synchronize()
        expected = cuda.prune(*fresh)
        for a, b in zip(out, expected):
            assert torch.equal(a, b)


def test_host_tensors_are_refused_by_a_cuda_module(modules):
    _, cuda = modules["top2"]
    scores = torch.zeros(3, 5)
    lengths = torch.zeros(3, dtype=torch.int32)
    with pytest.raises(winnow.InvalidArgumentError,
                       match="expected a kDLCUDA tensor"):
        cuda.top2(scores, lengths)


def test_cuda_operator_and_torch_compile(modules):
    _, cuda = modules["prune"]
    ops = winnow.register_torch_ops(cuda, prefix="cuda_test")
    inputs = prune_inputs("cuda", 7)
    expected = cuda.prune(*inputs)
    for a, b in zip(ops.prune(*inputs), expected):
        assert torch.equal(a, b)
    if hasattr(torch, "compile"):
        compiled = torch.compile(lambda *t: ops.prune(*t)[2].float() * 2,
                                 backend="aot_eager", fullgraph=True)
        assert torch.equal(compiled(*inputs), expected.kept_hidden.float() * 2)


def test_numpy_interop_copies_nothing_on_cpu_module(modules):
    cpu, _ = modules["top2"]
    scores = np.arange(15, dtype=np.float32).reshape(3, 5)
    result = cpu.top2(scores, np.array([5, 5, 5], np.int32))
    assert result.indices.tolist() == [[3, 4]] * 3

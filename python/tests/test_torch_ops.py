"""Entry points as torch.library operators: CPU kernels, fake (meta)
shapes, the autograd refusal, registration rules, and torch.compile where
the installed PyTorch has it."""

import numpy as np
import pytest
import torch

import winnow
from conftest import PRUNE


@pytest.fixture(scope="module")
def prune_module():
    return winnow.load(winnow.compile(PRUNE, name="prune_ops"))


@pytest.fixture(scope="module")
def ops(prune_module):
    return winnow.register_torch_ops(prune_module, prefix="ops_test")


def inputs():
    scores = torch.tensor([[0.1, 0.9, 0.3, 0.9, 0.2, 0.5],
                           [0.7, 0.1, 0.8, 0.0, 0.0, 0.0]])
    lengths = torch.tensor([6, 3], dtype=torch.int32)
    hidden = torch.randn(2, 6, 4).to(torch.bfloat16)
    return scores, lengths, hidden


def test_the_op_matches_the_plain_call(ops, prune_module):
    scores, lengths, hidden = inputs()
    via_op = ops.prune(scores, lengths, hidden)
    plain = prune_module.prune(scores, lengths, hidden)
    assert isinstance(via_op, tuple) and len(via_op) == 3
    for a, b in zip(via_op, plain):
        assert torch.equal(a, b)
    assert via_op[0].tolist() == [[1, 3], [0, 2]]
    # The same op through torch.ops.
    again = torch.ops.winnow.ops_test_prune(scores, lengths, hidden)
    assert torch.equal(again[2], plain.kept_hidden)


def test_fake_kernel_gives_shapes_without_running(ops):
    scores, lengths, hidden = (t.to("meta") for t in inputs())
    indices, count, kept = ops.prune(scores, lengths, hidden)
    assert indices.device.type == "meta"
    assert (tuple(indices.shape), indices.dtype) == ((2, 2), torch.int32)
    assert (tuple(count.shape), count.dtype) == ((2,), torch.int32)
    assert (tuple(kept.shape), kept.dtype) == ((2, 2, 4), torch.bfloat16)


def test_autograd_is_refused_clearly(ops):
    scores, lengths, hidden = inputs()
    scores.requires_grad_(True)
    with pytest.raises(RuntimeError, match="is not differentiable"):
        ops.prune(scores, lengths, hidden)
    with torch.no_grad():
        assert ops.prune(scores, lengths, hidden)[1].tolist() == [2, 2]


def test_registration_rules(ops, prune_module):
    # Registering a module again returns the same ops.
    assert winnow.register_torch_ops(prune_module, prefix="ops_test").prune \
        is ops.prune
    other = winnow.load(winnow.compile(PRUNE, name="prune_ops"))
    with pytest.raises(ValueError, match="already registered for another "
                                         "module"):
        winnow.register_torch_ops(other, prefix="ops_test")
    second = winnow.register_torch_ops(other, prefix="ops_test_second")
    scores, lengths, hidden = inputs()
    assert second.prune(scores, lengths, hidden)[1].tolist() == [2, 2]


def test_wrong_inputs_raise_through_the_op(ops):
    scores, lengths, hidden = inputs()
    with pytest.raises(winnow.InvalidArgumentError,
                       match="input 1 'lengths': expected dtype i32"):
        ops.prune(scores, lengths.long(), hidden)


@pytest.mark.skipif(not hasattr(torch, "compile"),
                    reason="torch.compile needs PyTorch >= 2.0 (Debian's is "
                           "1.13); the GPU machine's 2.x runs this test")
def test_torch_compile_aot_eager(ops):
    def step(scores, lengths, hidden):
        indices, count, kept = ops.prune(scores * 2.0, lengths, hidden)
        return kept.float().sum(dim=1), count

    compiled = torch.compile(step, backend="aot_eager", fullgraph=True)
    scores, lengths, hidden = inputs()
    expected = step(scores, lengths, hidden)
    result = compiled(scores, lengths, hidden)
    assert torch.equal(result[0], expected[0])
    assert torch.equal(result[1], expected[1])

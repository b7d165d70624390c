"""Entry points with dynamic extents (format 2.1): signatures name the
symbols, out=None allocates results from the values the inputs bind, the
runtime's binding errors surface as exceptions, and the torch operator's
fake kernel derives result shapes from the inputs.

The first tests use the runtime tests' hand-built artifact (runtime/tests/
TestDynamicEntries.c, written by winnow-make-test-artifacts): they need the
build tree but not the compiler. The last ones compile a program with a
dynamic batch (tok.bounds) with winnow.compile and check it row by row
against the same program compiled at a static batch."""

import os
import subprocess

import numpy as np
import pytest
import torch

import winnow
from winnow import _torch_library

BUILD_DIR = os.environ.get("WINNOW_BUILD_DIR", "")


@pytest.fixture(scope="module")
def dynamic_artifact(tmp_path_factory):
    tool = os.path.join(BUILD_DIR, "bin", "winnow-make-test-artifacts")
    objects = [os.path.join(BUILD_DIR, "lib", name) for name in (
        "winnow_test_entries.so", "winnow_test_entries_add_one.so",
        "winnow_test_dynamic_entries.so")]
    if not all(os.path.exists(p) for p in [tool] + objects):
        pytest.skip("needs the build tree's winnow-make-test-artifacts and "
                    "test objects (WINNOW_BUILD_DIR)")
    out = tmp_path_factory.mktemp("dynamic")
    subprocess.run([tool, *objects, str(out)], check=True)
    return str(out / "dynamic.wnn")


@pytest.fixture(scope="module")
def module(dynamic_artifact):
    return winnow.load(dynamic_artifact)


def test_signatures_name_the_symbols(module):
    keep_first = module.signatures["keep_first"]
    assert keep_first.symbols == (winnow.Symbol("batch", 4),)
    assert [s.shape for s in keep_first.inputs] == [("batch", 4), ("batch",)]
    assert [str(s) for s in keep_first.results] == ["i32[batch, 4]",
                                                    "i32[batch]"]
    assert keep_first.results[0].count_result == 1
    assert keep_first.bindings() == {"batch": (0, 0)}
    outer = module.signatures["outer"]
    assert [str(s) for s in outer.symbols] == ["m <= 3", "n <= 5"]
    assert outer.results[0].shape == ("m", "n")
    assert outer.bindings() == {"m": (0, 0), "n": (1, 0)}
    doc = module.keep_first.__doc__
    assert "scores   f32[batch, 4]" in doc
    assert "Symbols (dynamic extents, taken from the inputs of each call):\n" \
           "  batch <= 4\n" in doc


def test_results_are_allocated_from_the_bound_values(module):
    for batch in range(5):
        x = np.arange(batch * 3, dtype=np.float32).reshape(batch, 3)
        y = module.add_one_rows(x)
        assert isinstance(y, np.ndarray) and y.shape == (batch, 3)
        np.testing.assert_array_equal(y, x + 1)
    kept = module.keep_first(torch.zeros(3, 4),
                             torch.tensor([1, 5, 0], dtype=torch.int32))
    assert isinstance(kept.indices, torch.Tensor)
    assert kept.count.tolist() == [1, 4, 0]
    assert kept.indices.tolist() == [[0, -1, -1, -1], [0, 1, 2, 3],
                                     [-1, -1, -1, -1]]
    c = module.outer(np.array([1, 2], np.float32),
                     np.array([1, 10, 100], np.float32))
    np.testing.assert_array_equal(c, [[1, 10, 100], [2, 20, 200]])
    assert module.outer(np.ones(3, np.float32),
                        np.ones(0, np.float32)).shape == (3, 0)


def test_result_shapes(module):
    assert module.result_shapes("outer", [(2,), (5,)]) == ((2, 5),)
    assert module.result_shapes("keep_first", [(3, 4), (3,)]) == ((3, 4),
                                                                  (3,))
    with pytest.raises(winnow.InvalidArgumentError,
                       match=r"function 'outer': n is 6 in b, above its "
                             r"bound 5"):
        module.result_shapes("outer", [(2,), (6,)])
    with pytest.raises(AttributeError, match="no entry point 'nope'"):
        module.result_shapes("nope", [])


def test_binding_errors_come_from_the_runtime(module):
    with pytest.raises(winnow.InvalidArgumentError,
                       match=r"^function 'add_one_rows': batch is 5 in x, "
                             r"above its bound 4$"):
        module.add_one_rows(np.zeros((5, 3), np.float32))
    with pytest.raises(winnow.InvalidArgumentError,
                       match=r"^function 'keep_first': batch is 3 in scores "
                             r"but 2 in keep$"):
        module.keep_first(torch.zeros(3, 4), torch.zeros(2, dtype=torch.int32))
    with pytest.raises(winnow.InvalidArgumentError,
                       match=r"input 0 'scores': expected shape 3x4xf32 "
                             r"\(batch = 3\), got 3x5xf32"):
        module.keep_first(torch.zeros(3, 5), torch.zeros(3, dtype=torch.int32))
    # out= tensors must have the bound shapes.
    with pytest.raises(winnow.InvalidArgumentError,
                       match=r"output 0 'y': expected shape 2x3xf32 \(batch "
                             r"= 2\), got 4x3xf32 \(dimension 0 differs\)"):
        module.add_one_rows(np.zeros((2, 3), np.float32),
                            out=np.zeros((4, 3), np.float32))
    out = np.zeros((2, 3), np.float32)
    assert module.add_one_rows(np.ones((2, 3), np.float32), out=out) is out
    assert out.tolist() == [[2, 2, 2], [2, 2, 2]]


def test_fake_kernel_takes_result_shapes_from_the_inputs(module):
    ops = winnow.register_torch_ops(module, prefix="dynamic_test")
    indices, count = ops.keep_first(torch.zeros(3, 4, device="meta"),
                                    torch.zeros(3, dtype=torch.int32,
                                                device="meta"))
    assert indices.device.type == "meta"
    assert (tuple(indices.shape), indices.dtype) == ((3, 4), torch.int32)
    assert tuple(count.shape) == (3,)
    c = ops.outer(torch.zeros(2, device="meta"), torch.zeros(0, device="meta"))
    assert tuple(c.shape) == (2, 0)
    with pytest.raises(winnow.InvalidArgumentError,
                       match="batch is 3 in scores but 1 in keep"):
        ops.keep_first(torch.zeros(3, 4, device="meta"),
                       torch.zeros(1, dtype=torch.int32, device="meta"))
    # The real kernel allocates the same shapes.
    indices, count = ops.keep_first(torch.zeros(2, 4),
                                    torch.tensor([2, 9], dtype=torch.int32))
    assert count.tolist() == [2, 4]


class _Symbolic:
    """Stands in for a torch.SymInt: an extent that is not an int."""

    def __init__(self, name):
        self.name = name


def test_fake_shapes_pass_symbolic_extents_through(module):
    signature = module.signatures["outer"]
    m, n = _Symbolic("s0"), _Symbolic("s1")
    shapes = _torch_library._result_shapes(module, signature, [(m,), (n,)])
    assert len(shapes) == 1 and shapes[0][0] is m and shapes[0][1] is n
    keep_first = module.signatures["keep_first"]
    b = _Symbolic("s0")
    shapes = _torch_library._result_shapes(module, keep_first,
                                           [(b, 4), (b,)])
    assert shapes[0][0] is b and shapes[0][1] == 4 and shapes[1][0] is b
    with pytest.raises(ValueError, match=r"input 0 'scores': expected rank 2 "
                                         r"\(f32\[batch, 4\]\), got rank 1"):
        _torch_library._result_shapes(module, keep_first, [(b,), (b,)])
    with pytest.raises(TypeError, match=r"takes 2 tensors, got 1"):
        _torch_library._result_shapes(module, keep_first, [(b, 4)])


# -- compiled by winnow-compile -----------------------------------------------

# One program text at a dynamic batch (BATCH = "?", with tok.bounds) or a
# static one: keep the 3 best of 8 tokens per row, gather their hidden rows.
PRUNE_ROWS = """
func.func @prune(%scores: tensor<BATCHx8xf32> {tok.name = "scores"},
                 %lengths: tensor<BATCHxi32> {tok.name = "lengths"},
                 %hidden: tensor<BATCHx8x4xf32> {tok.name = "hidden"})
    -> (tensor<BATCHx3xi32> {tok.name = "indices"},
        tensor<BATCHxi32> {tok.name = "count"},
        tensor<BATCHx3x4xf32> {tok.name = "kept"}) ATTRIBUTES {
  %idx, %n = tok.select #tok.top_k<3> of %scores lengths %lengths
      : (tensor<BATCHx8xf32>, tensor<BATCHxi32>)
      -> (tensor<BATCHx3xi32>, tensor<BATCHxi32>)
  %h, %map = tok.compact %idx, %n gather(%hidden)
      : (tensor<BATCHx3xi32>, tensor<BATCHxi32>, tensor<BATCHx8x4xf32>)
      -> (tensor<BATCHx3x4xf32>, tensor<BATCHx8xi32>)
  return %idx, %n, %h
      : tensor<BATCHx3xi32>, tensor<BATCHxi32>, tensor<BATCHx3x4xf32>
}
"""
BOUND = 9
STATIC_BATCH = 4


def _program(batch, bound=None):
    attributes = (f"attributes {{tok.bounds = {{batch = {bound}}}}}"
                  if bound is not None else "")
    return PRUNE_ROWS.replace("BATCH", batch).replace("ATTRIBUTES",
                                                      attributes)


def _compiler_or_skip():
    try:
        winnow.find_compiler()
    except FileNotFoundError as error:
        pytest.skip(f"needs winnow-compile: {error}")


@pytest.fixture(scope="module")
def compiled():
    _compiler_or_skip()
    return winnow.load(winnow.compile(_program("?", BOUND),
                                      name="prune_dynamic"))


@pytest.fixture(scope="module")
def static():
    _compiler_or_skip()
    return winnow.load(winnow.compile(_program(str(STATIC_BATCH)),
                                      name="prune_static"))


@pytest.fixture(scope="module")
def rows():
    """Rows of inputs, and what the static program gives for each: random
    scores (ties to the lower position), lengths from below 0 to above 8
    (clamped), hidden rows that name their token."""
    generator = np.random.default_rng(7)
    n = 3 * STATIC_BATCH
    scores = generator.standard_normal((n, 8)).astype(np.float32)
    scores[1] = [0, 0.5, 0.5, 0.5, 0.5, 0, 0, 0]  # ties: lower positions
    lengths = np.array([8, 8, 5, 3, 2, 1, 0, -4, 50, 7, 8, 6], np.int32)
    hidden = (np.arange(n)[:, None, None] * 1000
              + np.arange(8)[None, :, None] * 10
              + np.arange(4)[None, None, :]).astype(np.float32)
    return scores, lengths, hidden


@pytest.fixture(scope="module")
def reference(static, rows):
    """The static program's results for every row, STATIC_BATCH rows per
    call."""
    scores, lengths, hidden = rows
    parts = [static.prune(scores[i:i + STATIC_BATCH],
                          lengths[i:i + STATIC_BATCH],
                          hidden[i:i + STATIC_BATCH])
             for i in range(0, len(lengths), STATIC_BATCH)]
    return tuple(np.concatenate([p[r] for p in parts]) for r in range(3))


def test_compiled_signature_names_the_batch(compiled):
    signature = compiled.signatures["prune"]
    assert signature.symbols == (winnow.Symbol("batch", BOUND),)
    assert [s.shape for s in signature.inputs] == [
        ("batch", 8), ("batch",), ("batch", 8, 4)]
    assert [str(s) for s in signature.results] == [
        "i32[batch, 3]", "i32[batch]", "f32[batch, 3, 4]"]
    assert signature.results[0].count_result == 1
    assert signature.results[2].count_result == 1
    assert signature.bindings() == {"batch": (0, 0)}
    assert f"  batch <= {BOUND}\n" in compiled.prune.__doc__


def test_the_reference_is_not_trivial(reference):
    # The rows exercise full, partial, empty and clamped selections.
    indices, count, kept = reference
    assert count.tolist() == [3, 3, 3, 3, 2, 1, 0, 0, 3, 3, 3, 3]
    assert indices[1].tolist() == [1, 2, 3]
    assert indices[6].tolist() == [-1, -1, -1]
    assert kept[5, 0].tolist() == [5000, 5001, 5002, 5003]


@pytest.mark.parametrize("batch", [0, 1, 3, STATIC_BATCH, 5, BOUND])
def test_numpy_calls_at_every_batch_match_the_static_program(
        compiled, rows, reference, batch):
    scores, lengths, hidden = rows
    for start in (0, len(lengths) - batch):
        window = slice(start, start + batch)
        result = compiled.prune(scores[window], lengths[window],
                                hidden[window])
        assert isinstance(result.kept, np.ndarray)
        assert [r.shape for r in result] == [(batch, 3), (batch,),
                                             (batch, 3, 4)]
        assert [r.dtype for r in result] == [np.int32, np.int32, np.float32]
        for got, want in zip(result, reference):
            np.testing.assert_array_equal(got, want[window])


@pytest.mark.parametrize("batch", [0, 2, BOUND])
def test_torch_calls_match_the_static_program(compiled, rows, reference,
                                              batch):
    scores, lengths, hidden = (torch.from_numpy(t[:batch].copy())
                               for t in rows)
    result = compiled.prune(scores, lengths, hidden)
    assert all(isinstance(r, torch.Tensor) for r in result)
    assert [tuple(r.shape) for r in result] == [(batch, 3), (batch,),
                                                (batch, 3, 4)]
    assert [r.dtype for r in result] == [torch.int32, torch.int32,
                                         torch.float32]
    for got, want in zip(result, reference):
        np.testing.assert_array_equal(got.numpy(), want[:batch])
    # out= tensors of the bound shapes are written in place.
    out = (torch.full((batch, 3), 77, dtype=torch.int32),
           torch.full((batch,), 77, dtype=torch.int32),
           torch.full((batch, 3, 4), 77.0))
    written = compiled.prune(scores, lengths, hidden, out=out)
    assert all(w is o for w, o in zip(written, out))
    for got, want in zip(out, reference):
        np.testing.assert_array_equal(got.numpy(), want[:batch])


def test_one_executable_serves_batches_in_any_order(compiled, rows,
                                                    reference):
    # Nothing a call at a large batch leaves behind leaks into a smaller one.
    scores, lengths, hidden = rows
    for batch in (BOUND, 1, 0, 7, 2, BOUND, 3):
        result = compiled.prune(scores[:batch], lengths[:batch],
                                hidden[:batch])
        for got, want in zip(result, reference):
            np.testing.assert_array_equal(got, want[:batch])


def test_compiled_binding_errors(compiled, rows):
    scores, lengths, hidden = rows
    with pytest.raises(winnow.InvalidArgumentError,
                       match=rf"^function 'prune': batch is 10 in scores, "
                             rf"above its bound {BOUND}$"):
        compiled.prune(np.zeros((10, 8), np.float32),
                       np.zeros(10, np.int32),
                       np.zeros((10, 8, 4), np.float32))
    with pytest.raises(winnow.InvalidArgumentError,
                       match=r"^function 'prune': batch is 3 in scores but 2 "
                             r"in hidden$"):
        compiled.prune(scores[:3], lengths[:3], hidden[:2])
    with pytest.raises(winnow.InvalidArgumentError,
                       match=r"^function 'prune': batch is 2 in scores but 3 "
                             r"in lengths$"):
        compiled.prune(torch.zeros(2, 8), torch.zeros(3, dtype=torch.int32),
                       torch.zeros(2, 8, 4))
    with pytest.raises(winnow.InvalidArgumentError,
                       match=r"input 2 'hidden': expected shape 3x8x4xf32 "
                             r"\(batch = 3\), got 3x8x5xf32"):
        compiled.prune(scores[:3], lengths[:3],
                       np.zeros((3, 8, 5), np.float32))
    out = (np.zeros((3, 3), np.int32), np.zeros(2, np.int32),
           np.zeros((3, 3, 4), np.float32))
    with pytest.raises(winnow.InvalidArgumentError,
                       match=r"output 1 'count': expected shape 3xi32 "
                             r"\(batch = 3\), got 2xi32"):
        compiled.prune(scores[:3], lengths[:3], hidden[:3], out=out)
    assert compiled.result_shapes("prune", [(4, 8), (4,), (4, 8, 4)]) == (
        (4, 3), (4,), (4, 3, 4))


def test_compiled_fake_kernel_gives_the_bound_shapes(compiled, rows,
                                                     reference):
    ops = winnow.register_torch_ops(compiled, prefix="dynamic_compiled")
    for batch in (0, 1, 5, BOUND):
        indices, count, kept = ops.prune(
            torch.zeros(batch, 8, device="meta"),
            torch.zeros(batch, dtype=torch.int32, device="meta"),
            torch.zeros(batch, 8, 4, device="meta"))
        assert kept.device.type == "meta"
        assert (tuple(indices.shape), indices.dtype) == ((batch, 3),
                                                         torch.int32)
        assert (tuple(count.shape), count.dtype) == ((batch,), torch.int32)
        assert (tuple(kept.shape), kept.dtype) == ((batch, 3, 4),
                                                   torch.float32)
    with pytest.raises(winnow.InvalidArgumentError,
                       match=rf"batch is 10 in scores, above its bound "
                             rf"{BOUND}"):
        ops.prune(torch.zeros(10, 8, device="meta"),
                  torch.zeros(10, dtype=torch.int32, device="meta"),
                  torch.zeros(10, 8, 4, device="meta"))
    # The real kernel, through torch.ops, gives the static program's rows.
    scores, lengths, hidden = (torch.from_numpy(t[:5].copy()) for t in rows)
    result = torch.ops.winnow.dynamic_compiled_prune(scores, lengths, hidden)
    for got, want in zip(result, reference):
        np.testing.assert_array_equal(got.numpy(), want[:5])


def test_a_dynamic_batch_for_cuda_is_refused_at_compile_time():
    _compiler_or_skip()
    with pytest.raises(winnow.CompileError,
                       match=r"a dynamic batch \('batch' in tok.bounds\) is "
                             r"supported on the cpu target only"):
        winnow.compile(_program("?", BOUND), target="cuda",
                       name="prune_dynamic_cuda", cache=False)


def test_a_methods_program_compiled_for_every_batch_matches_its_static_form():
    """winnow.compile(dynamic_batch=N) on a winnow.methods program written
    at batch 2: one artifact serves batch 0, 1, 3 and 5, each row the same
    bits as the batch-2 artifact gives it."""
    program = winnow.methods.fastv(batch=2, heads=2, head_dim=8,
                                   image_tokens=16, hidden=8,
                                   keep_ratio=0.5, single_request=False)
    static = winnow.load(program.compile())
    dynamic = winnow.load(program.compile(dynamic_batch=5))
    entry = getattr(dynamic, program.entries[0])
    assert "batch" in entry.__doc__ and "<= 5" in entry.__doc__
    rng = np.random.default_rng(7)
    rows = 6
    q = rng.standard_normal((rows, 2, 1, 8)).astype(np.float32)
    k = rng.standard_normal((rows, 2, 16, 8)).astype(np.float32)
    lse = (rng.standard_normal((rows, 2, 1)) + 3).astype(np.float32)
    lengths = np.array([16, 9, 0, 3, 16, 1], dtype=np.int32)
    hidden = rng.standard_normal((rows, 16, 8)).astype(np.float32)
    positions = np.arange(rows * 16, dtype=np.int32).reshape(rows, 16)
    to_bf16 = lambda a: torch.from_numpy(a).to(torch.bfloat16)
    inputs = [to_bf16(q), to_bf16(k), torch.from_numpy(lse),
              torch.from_numpy(lengths), to_bf16(hidden),
              torch.from_numpy(positions)]
    static_entry = getattr(static, program.entries[0])
    reference = [static_entry(*[t[i:i + 2].contiguous() for t in inputs])
                 for i in (0, 2, 4)]
    for batch in (0, 1, 3, 5):
        got = entry(*[t[:batch].contiguous() for t in inputs])
        for r, result in enumerate(got):
            assert result.shape[0] == batch
            expected = torch.cat([chunk[r] for chunk in reference])[:batch]
            assert torch.equal(result.view(torch.int16)
                               if result.dtype == torch.bfloat16 else result,
                               expected.view(torch.int16)
                               if expected.dtype == torch.bfloat16
                               else expected), (batch, r)
    with pytest.raises(ValueError, match="dynamic_batch must be"):
        program.compile(dynamic_batch=-1)

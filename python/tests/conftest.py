"""Shared fixtures of the winnow package's tests: small tok programs,
compiled once per session."""

import os

import pytest

import winnow

SOURCE_DIR = os.environ.get(
    "WINNOW_SOURCE_DIR",
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
        __file__)))))

# The README's first program: keep the 2 best of 6 tokens, gather bf16 rows.
PRUNE = """
func.func @prune(%scores: tensor<2x6xf32> {tok.name = "scores"},
                 %lengths: tensor<2xi32> {tok.name = "lengths"},
                 %hidden: tensor<2x6x4xbf16> {tok.name = "hidden"})
    -> (tensor<2x2xi32> {tok.name = "indices"},
        tensor<2xi32> {tok.name = "count"},
        tensor<2x2x4xbf16> {tok.name = "kept_hidden"}) {
  %idx, %n = tok.select #tok.top_k<2> of %scores lengths %lengths
      : (tensor<2x6xf32>, tensor<2xi32>) -> (tensor<2x2xi32>, tensor<2xi32>)
  %h, %map = tok.compact %idx, %n gather(%hidden)
      : (tensor<2x2xi32>, tensor<2xi32>, tensor<2x6x4xbf16>)
      -> (tensor<2x2x4xbf16>, tensor<2x6xi32>)
  return %idx, %n, %h : tensor<2x2xi32>, tensor<2xi32>, tensor<2x2x4xbf16>
}
"""

# Two inputs, two results, f32/i32 only (NumPy can hold every result).
TOP2 = """
func.func @top2(%scores: tensor<3x5xf32> {tok.name = "scores"},
                %lengths: tensor<3xi32> {tok.name = "lengths"})
    -> (tensor<3x2xi32> {tok.name = "indices"},
        tensor<3xi32> {tok.name = "count"}) {
  %idx, %n = tok.select #tok.top_k<2> of %scores lengths %lengths
      : (tensor<3x5xf32>, tensor<3xi32>) -> (tensor<3x2xi32>, tensor<3xi32>)
  return %idx, %n : tensor<3x2xi32>, tensor<3xi32>
}
"""


@pytest.fixture(scope="session")
def prune_artifact():
    return winnow.compile(PRUNE, name="prune")


@pytest.fixture(scope="session")
def top2_artifact():
    return winnow.compile(TOP2, name="top2")


@pytest.fixture(scope="session")
def top2(top2_artifact):
    return winnow.load(top2_artifact)


def artifact_for(source, name, target="cpu"):
    """The artifact of `source` for `target`: compiled here, or, on a
    machine without the compiler (the GPU machine), read from
    $WINNOW_PREBUILT_DIR/<name>.wnn, which tools/python-gpu-check.sh
    prepare writes (compiled for cpu,cuda)."""
    prebuilt = os.environ.get("WINNOW_PREBUILT_DIR")
    if prebuilt:
        with open(os.path.join(prebuilt, name + ".wnn"), "rb") as file:
            return winnow.Artifact(file.read(), name, ("cpu", "cuda"))
    return winnow.compile(source, target=target, name=name)


# The programs the CUDA tests call; prepare compiles each for cpu,cuda.
GPU_PROGRAMS = {"prune": PRUNE, "top2": TOP2}

"""The paper's numbers (Ronneberger et al. 2015, Figure 1), derived by hand, against the spec."""

from __future__ import annotations

import pytest

from unet_explain import UNetConfig, build_spec

# (stage, input side, sides after the two 3x3 convs, channels) read off Figure 1.
CONTRACTING = [
    ("enc1", 572, (570, 568), 64, 284),
    ("enc2", 284, (282, 280), 128, 140),
    ("enc3", 140, (138, 136), 256, 68),
    ("enc4", 68, (66, 64), 512, 32),
]
# (stage, up-conv output side, copied map side, crop per side, concat channels, conv sides, channels)
EXPANSIVE = [
    ("dec4", 56, 64, 4, 1024, (54, 52), 512),
    ("dec3", 104, 136, 16, 512, (102, 100), 256),
    ("dec2", 200, 280, 40, 256, (198, 196), 128),
    ("dec1", 392, 568, 88, 128, (390, 388), 64),
]


def square(n: int) -> tuple[int, int]:
    return (n, n)


def test_stage_order(paper_spec):
    assert [s.name for s in paper_spec.stages] == [
        "enc1", "enc2", "enc3", "enc4", "bottleneck", "dec4", "dec3", "dec2", "dec1", "output",
    ]  # fmt: skip


@pytest.mark.parametrize(("name", "side", "convs", "channels", "pooled"), CONTRACTING)
def test_contracting_path(paper_spec, name, side, convs, channels, pooled):
    stage = paper_spec.stage(name)
    assert stage.in_size == square(side)
    assert stage.conv_sizes == tuple(square(c) for c in convs)
    assert stage.channels == channels
    assert stage.pool_size == square(pooled)


def test_bottleneck(paper_spec):
    stage = paper_spec.stage("bottleneck")
    assert stage.in_size == square(32)
    assert stage.conv_sizes == (square(30), square(28))
    assert stage.channels == 1024


@pytest.mark.parametrize(("name", "up", "skip", "crop", "concat", "convs", "channels"), EXPANSIVE)
def test_expansive_path(paper_spec, name, up, skip, crop, concat, convs, channels):
    stage = paper_spec.stage(name)
    assert stage.up_size == square(up)
    assert stage.skip_size == square(skip)
    assert stage.skip_from == "enc" + name[3:]
    assert stage.crop == (crop, crop)
    assert stage.concat_channels == concat
    assert stage.conv_sizes == tuple(square(c) for c in convs)
    assert stage.channels == channels


def test_output_map(paper_spec):
    assert paper_spec.totals.output_size == (388, 388)
    assert paper_spec.stage("output").channels == 2
    # 572 - 388 = 184: a context margin of 92 pixels on each side (by hand, from the paper).
    assert paper_spec.totals.context_margin == (92, 92)


def test_parameters(paper_spec):
    assert paper_spec.totals.params == 31_030_658
    assert build_spec(UNetConfig(in_channels=3)).totals.params == 31_031_810


def test_23_convolutional_layers(paper_spec):
    kinds = [layer.kind for layer in paper_spec.layers]
    assert kinds.count("conv3x3") == 18
    assert kinds.count("upconv") == 4
    assert kinds.count("conv1x1") == 1
    assert paper_spec.totals.conv_layers == 23


def test_multiply_accumulates(paper_spec):
    assert round(paper_spec.totals.macs / 1e9, 2) == 150.43


def test_activation_memory_view_convention(paper_spec):
    """575 MB is the package's convention (crops and concatenations as free views), not a paper fact.

    It is the lower bound; Keras allocates about 232 MB more for the crops and
    concatenations, and the bytes a step really holds are in test_memory.py.
    """
    assert round(paper_spec.totals.activation_bytes / 1e6) == 575


# Per stage, by hand from Figure 1: a KxK conv from C_in to C_out has K*K*C_in*C_out weights + C_out biases
# and costs K*K*C_in*C_out multiply-accumulates per output pixel; a 2x2 up-conv costs C_in*C_out per pixel.
STAGE_PARAMS = {
    "enc1": (9 * 1 * 64 + 64) + (9 * 64 * 64 + 64),
    "enc2": (9 * 64 * 128 + 128) + (9 * 128 * 128 + 128),
    "enc3": (9 * 128 * 256 + 256) + (9 * 256 * 256 + 256),
    "enc4": (9 * 256 * 512 + 512) + (9 * 512 * 512 + 512),
    "bottleneck": (9 * 512 * 1024 + 1024) + (9 * 1024 * 1024 + 1024),
    "dec4": (4 * 1024 * 512 + 512) + (9 * 1024 * 512 + 512) + (9 * 512 * 512 + 512),
    "dec3": (4 * 512 * 256 + 256) + (9 * 512 * 256 + 256) + (9 * 256 * 256 + 256),
    "dec2": (4 * 256 * 128 + 128) + (9 * 256 * 128 + 128) + (9 * 128 * 128 + 128),
    "dec1": (4 * 128 * 64 + 64) + (9 * 128 * 64 + 64) + (9 * 64 * 64 + 64),
    "output": 64 * 2 + 2,
}
STAGE_MACS = {
    "enc1": 570**2 * 9 * 1 * 64 + 568**2 * 9 * 64 * 64,
    "enc2": 282**2 * 9 * 64 * 128 + 280**2 * 9 * 128 * 128,
    "enc3": 138**2 * 9 * 128 * 256 + 136**2 * 9 * 256 * 256,
    "enc4": 66**2 * 9 * 256 * 512 + 64**2 * 9 * 512 * 512,
    "bottleneck": 30**2 * 9 * 512 * 1024 + 28**2 * 9 * 1024 * 1024,
    "dec4": 56**2 * 1024 * 512 + 54**2 * 9 * 1024 * 512 + 52**2 * 9 * 512 * 512,
    "dec3": 104**2 * 512 * 256 + 102**2 * 9 * 512 * 256 + 100**2 * 9 * 256 * 256,
    "dec2": 200**2 * 256 * 128 + 198**2 * 9 * 256 * 128 + 196**2 * 9 * 128 * 128,
    "dec1": 392**2 * 128 * 64 + 390**2 * 9 * 128 * 64 + 388**2 * 9 * 64 * 64,
    "output": 388**2 * 64 * 2,
}


def test_parameters_and_macs_per_stage(paper_spec):
    assert {s.name: s.params for s in paper_spec.stages} == STAGE_PARAMS
    assert {s.name: s.macs for s in paper_spec.stages} == STAGE_MACS
    assert sum(STAGE_PARAMS.values()) == 31_030_658  # the hand figures add up to the paper's total
    assert sum(STAGE_MACS.values()) == paper_spec.totals.macs == 150_428_424_448


def test_same_padding_has_no_crops():
    spec = build_spec(UNetConfig(input_size=576, padding="same"))
    assert spec.totals.output_size == (576, 576)
    assert spec.totals.context_margin == (0, 0)
    assert all(s.crop == (0, 0) for s in spec.stages if s.path == "expansive")
    # Same channels and kernels as the paper, so the same parameter count.
    assert spec.totals.params == 31_030_658

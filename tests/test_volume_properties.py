"""Property tests over random 3D configurations, and a small sample of them against Keras.

Independent checks: each axis of a volume must behave like a 2D network with
that side (the layers are separable), the parameters must follow the closed
form of the channel schedule, and a Keras Conv3D model must agree layer by layer.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unet_explain import UNetConfig, build_spec
from unet_explain.core import arithmetic as ar
from unet_explain.core.sizes import valid_sizes


@st.composite
def volumes(draw, max_side: int = 400, max_depth: int = 5, filters: tuple[int, ...] = (1, 2, 8, 32)) -> UNetConfig:
    """A 3D config with a valid (often anisotropic) side per axis."""
    depth = draw(st.integers(1, max_depth))
    padding = draw(st.sampled_from(["valid", "same"]))
    sides = valid_sizes(1, max_side, depth=depth, padding=padding)
    pick = st.sampled_from(sides)
    return UNetConfig(
        input_size=(draw(pick), draw(pick), draw(pick)),
        depth=depth,
        padding=padding,
        in_channels=draw(st.integers(1, 4)),
        num_classes=draw(st.integers(2, 5)),
        base_filters=draw(st.sampled_from(filters)),
        channel_schedule=draw(st.sampled_from(ar.CHANNEL_SCHEDULES)),
        norm=draw(st.sampled_from([None, "batch"])),
    )


@given(volumes())
def test_each_axis_of_a_volume_is_a_2d_network(config):
    spec = build_spec(config)
    for axis, side in enumerate(config.input_size):
        flat = build_spec(UNetConfig(**(config.as_dict() | {"input_size": (side, side)})))
        for layer3, layer2 in zip(spec.layers, flat.layers, strict=True):
            assert layer3.name == layer2.name and layer3.channels == layer2.channels
            assert layer3.out_size[axis] == layer2.out_size[0]
        for s3, s2 in zip(spec.stages, flat.stages, strict=True):
            if s3.crop is not None:
                assert s3.crop[axis] == s2.crop[0]


@given(volumes())
def test_output_size_follows_the_general_form_per_axis(config):
    lost = 2 * 2 * (3 * 2**config.depth - 2) if config.padding == "valid" else 0
    assert build_spec(config).totals.output_size == tuple(n - lost for n in config.input_size)


@given(volumes())
def test_parameters_follow_the_schedule_in_closed_form(config):
    """Sum the schedule's convolutions by hand: 27 taps per 3x3x3 kernel, 8 per 2x2x2 up-convolution."""
    f, d, before = config.base_filters, config.depth, config.channel_schedule == "double_before_pool"
    total, c = 0, config.in_channels
    for level in range(1, d + 2):
        outs = (f << (level - 1), f << level) if before else (f << (level - 1),) * 2
        for out in outs:
            total += 27 * c * out + out + (4 * out if config.norm else 0)
            c = out
    for level in range(d, 0, -1):
        up = c if before else f << (level - 1)
        skip = (f << level) if before else (f << (level - 1))
        out = (f << level) if before else (f << (level - 1))
        total += 8 * c * up + up
        total += 27 * (skip + up) * out + out + 27 * out * out + out + (8 * out if config.norm else 0)
        c = out
    total += c * config.num_classes + config.num_classes
    assert build_spec(config).totals.params == total


@given(volumes())
def test_memory_counts_every_stored_voxel(config):
    spec = build_spec(config)
    stored = [layer for layer in spec.layers if layer.kind not in ("crop", "concat", "softmax")]
    assert spec.totals.activation_bytes == sum(4 * ar.voxels(x.out_size) * x.channels for x in stored)


# --- against Keras: a few small volumes (seconds each) -------------------------------


@pytest.mark.keras
@settings(max_examples=3)
@given(volumes(max_side=64, max_depth=2, filters=(1, 2, 4)))
def test_small_volumes_match_keras_layer_by_layer(config):
    from unet_explain.model.verify import verify

    report = verify(config)
    assert report.mismatches == [] and report.spec_total == report.keras_total

"""The spec against an independent Keras U-Net that reads only the configuration.

The package's own Keras builder takes its filters and crops from the spec, so
it cannot catch a spec that describes the wrong network. The reference builder
(:mod:`unet_explain.model.reference_unet`) takes its filters from the config and
its crops from the tensors' shapes; these tests compare the spec with it layer
by layer, and the package's model with it in kind, settings and wiring.
"""

from __future__ import annotations

import functools
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unet_explain import UNetConfig, build_model, build_spec, valid_sizes
from unet_explain.config import preset
from unet_explain.model.keras_unet import weights_left_unset
from unet_explain.model.reference_unet import build_reference
from unet_explain.model.verify import compare_model, verify

pytestmark = pytest.mark.keras


@functools.cache
def sides(depth: int, padding: str) -> list[int]:
    # The smallest valid tiles of each kind (plus a few larger ones): Keras builds symbolically,
    # so the tile size costs nothing; only the filters cost memory, hence tiny widths.
    found = valid_sizes(1, 2000, depth=depth, padding=padding)
    return found[:12] + found[-3:]


@st.composite
def small_configs(draw, max_depth: int = 6) -> UNetConfig:
    """Images and volumes, both paddings, rectangular tiles, 1-4 channels; the 2D and the 3D paper's recipes."""
    dims = draw(st.sampled_from([2, 2, 3]))
    # A volume's activations grow with the cube of its side: past depth 4 even the smallest valid
    # cube is over the 4 GiB budget that build_model enforces, so volumes stay small and shallow.
    depth = draw(st.integers(1, max_depth if dims == 2 else min(max_depth, 4)))
    padding = draw(st.sampled_from(["valid", "same"]))
    choices = sides(depth, padding) if dims == 2 else sides(depth, padding)[:3]
    return UNetConfig(
        input_size=tuple(draw(st.sampled_from(choices)) for _ in range(dims)),
        depth=depth,
        padding=padding,
        in_channels=draw(st.integers(1, 4)),
        num_classes=draw(st.integers(2, 5)),
        base_filters=draw(st.integers(1, 3)),
        channel_schedule=draw(st.sampled_from(["double_per_level", "double_before_pool"])),
        norm=draw(st.sampled_from([None, None, None, "batch"])),  # BN in one draw of four: its layers cost time
    )


def corner_configs() -> list[UNetConfig]:
    """Every corner the random configs reach, deterministically: each combination of dims (image, volume), depth
    (1-6 for images, 1-4 for volumes), padding, channel schedule and norm (80 networks). Along the way, base widths
    1-3 (odd and even), 1-4 input channels, 2-5 classes and tiles from the smallest to the largest valid side, square
    and rectangular (a tile's sides differ in four rows of five), come round again and again."""
    found = []
    product = itertools.product(
        (2, 3), range(1, 7), ("valid", "same"), ("double_per_level", "double_before_pool"), (None, "batch")
    )
    for dims, depth, padding, schedule, norm in product:
        if dims == 3 and depth > 4:  # as in small_configs: deeper volumes are over the build budget
            continue
        i = len(found)
        choices = sides(depth, padding) if dims == 2 else sides(depth, padding)[:3]
        step = 0 if i % 5 == 0 else 1 + i % 2  # a square tile in one row of five
        tile = tuple(choices[(i + axis * step) % len(choices)] for axis in range(dims))
        found.append(
            UNetConfig(
                input_size=tile,
                depth=depth,
                padding=padding,
                in_channels=1 + (i // 3) % 4,
                num_classes=2 + (i // 5) % 4,
                base_filters=1 + i % 3,
                channel_schedule=schedule,
                norm=norm,
            )
        )
    return found


def test_the_papers_network_agrees_three_ways():
    with weights_left_unset():  # shapes, counts and settings are compared, not the 31 million random weights
        report = verify(UNetConfig())
    assert report.ok, (report.mismatches, report.wiring)
    assert report.reference_total == 31_030_658  # the paper's network, by the independent builder
    assert all(check.checked_reference and check.reference_shape is not None for check in report.layers)
    crop = {check.name: check.reference_shape for check in report.layers}["dec1_crop"]
    assert crop == (392, 392, 64)  # measured by the reference on its own tensors: 568 - 2 * 88


def test_the_3d_unet_agrees_three_ways():
    """Cicek et al. 2016: 132x132x116x3 in, 3 poolings, 32 filters doubled before each pooling, BN before ReLU."""
    with weights_left_unset():
        report = verify(preset("3d-unet"))
    assert report.ok, (report.mismatches, report.wiring)
    shapes = {check.name: check.reference_shape for check in report.layers}
    # By hand (the paper's Figure 1): 132 -> 128 | 64 -> 60 | 30 -> 26 | 13 -> 11 -> 9, and 116 -> 112 | 56 -> 52 |
    # 26 -> 22 | 11 -> 9 -> 7 along the third axis; the bottom's second conv doubles 256 to 512 channels.
    assert shapes["bottleneck_conv2"] == (9, 9, 7, 512)
    # Up: 9 -> 18 -> 14 | 28 -> 24 | 48 -> 44, and 7 -> 14 -> 10 | 20 -> 16 | 32 -> 28: the paper's 44x44x28.
    assert shapes["output_conv"] == (44, 44, 28, 3)


def assert_spec_describes_the_independent_network(config: UNetConfig) -> None:
    # Names, output shapes and parameter counts are all that is compared: the weights are left undrawn
    # (weights_left_unset: the same layers, shapes and counts, checked in test_keras_model), most of a build's time.
    with weights_left_unset():
        reference = build_reference(config)
    spec = build_spec(config)
    # Every layer but the input and the ReLUs after a batch norm (the spec counts the ReLU with its conv).
    ref = {layer.name: layer for layer in reference.layers[1:] if not layer.name.endswith("_relu")}
    assert sorted(layer.name for layer in spec.layers) == sorted(ref)
    for layer in spec.layers:
        built = ref[layer.name]
        assert tuple(built.output.shape[1:]) == (*layer.out_size, layer.channels), layer.name
        assert built.count_params() == layer.params, layer.name
    assert reference.count_params() == spec.totals.params


@pytest.mark.parametrize("config", corner_configs(), ids=lambda c: c.describe().replace(" ", ""))
def test_the_spec_describes_the_independent_network_at_every_corner(config):
    assert_spec_describes_the_independent_network(config)


@settings(max_examples=50)
@given(small_configs())
def test_the_spec_describes_the_independent_network(config):
    """Random configs beyond the corners: other tiles, widths, channels and classes in other combinations."""
    assert_spec_describes_the_independent_network(config)


@settings(max_examples=25)
@given(small_configs(max_depth=4))
def test_the_packages_model_is_wired_like_the_independent_one(config):
    with weights_left_unset():  # the settings, inputs, shapes and counts compared are all there without weights
        report = compare_model(config, build_model(config), build_reference(config))
    assert report.wiring == ()
    assert report.ok, report.mismatches


def test_a_model_wired_differently_is_reported():
    """The reference of another config (other width, other tile) differs in settings and shapes."""
    config = UNetConfig(input_size=188, base_filters=2)
    report = compare_model(config, build_model(config), build_reference(UNetConfig(input_size=204, base_filters=1)))
    assert not report.ok
    assert any(w.startswith("enc1_conv1: filters 2 here, 1 in the reference") for w in report.wiring)
    assert "enc1_conv1" in {check.name for check in report.mismatches}


def test_the_verify_table_shows_the_independent_model():
    from rich.console import Console

    from unet_explain.render.terminal import verify_table

    report = verify(UNetConfig(input_size=188, base_filters=2))
    console = Console(width=160, color_system=None, record=True)
    console.print(verify_table(report))
    text = console.export_text()
    assert "Independent shape" in text and "Independent params" in text
    row = next(line for line in text.splitlines() if line.lstrip().startswith("dec1_crop"))
    assert row.split()[1:4] == ["8x8x2", "8x8x2", "8x8x2"]  # 188 -> 4 at the bottom; each up-conv gives 8

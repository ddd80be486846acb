"""The 3D U-Net (Cicek et al. 2016): sizes, crops, parameters and rules per axis, against the paper's numbers.

The expected sizes are the per-axis trace of ``../shared/reference/unet-facts.md``
(the 3D U-Net section), derived by hand from the paper's figure; the parameter
total is the paper's reported 19,069,955.
"""

from __future__ import annotations

import json

import pytest

from unet_explain import ConfigError, UNetConfig, build_spec
from unet_explain.config import parse_size, preset
from unet_explain.core import arithmetic as ar
from unet_explain.core.budget import check_memory, check_volume_memory
from unet_explain.core.param_count import PAPER_3D_PARAMS, reconcile_config
from unet_explain.core.receptive_field import analyse
from unet_explain.core.sizes import check_axes
from unet_explain.core.tiling import plan_tiles
from unet_explain.render.text_formats import to_csv, to_json

PAPER_3D = preset("3d-unet")

# unet-facts.md, "Sizes per axis": the map after each conv, pool and up-conv.
XY = [132, 130, 128, 64, 62, 60, 30, 28, 26, 13, 11, 9, 18, 16, 14, 28, 26, 24, 48, 46, 44]
Z = [116, 114, 112, 56, 54, 52, 26, 24, 22, 11, 9, 7, 14, 12, 10, 20, 18, 16, 32, 30, 28]


def _trace(spec, axis):
    sizes = [spec.config.input_size[axis]]
    for layer in spec.layers:
        if layer.kind in ("conv3x3", "maxpool", "upconv"):
            sizes.append(layer.out_size[axis])
    return sizes


def test_preset_is_the_papers_network():
    assert PAPER_3D.input_size == (132, 132, 116)
    assert (PAPER_3D.in_channels, PAPER_3D.num_classes, PAPER_3D.depth) == (3, 3, 3)
    assert PAPER_3D.channel_schedule == "double_before_pool" and PAPER_3D.norm == "batch"
    assert preset("unet") == UNetConfig()
    assert preset("3d-unet", depth=2, input_size=(92, 92, 92)).depth == 2  # overrides win


def test_unknown_preset_is_named():
    with pytest.raises(ConfigError, match="preset must be one of unet, 3d-unet; got '3d'"):
        preset("3d")


def test_sizes_per_axis_follow_the_paper():
    spec = build_spec(PAPER_3D)
    assert _trace(spec, 0) == XY and _trace(spec, 1) == XY and _trace(spec, 2) == Z
    assert spec.totals.output_size == (44, 44, 28)
    crops = {s.name: s.crop for s in spec.stages if s.crop is not None}
    assert crops == {"dec3": (4, 4, 4), "dec2": (16, 16, 16), "dec1": (40, 40, 40)}


def test_channels_double_before_each_pooling_and_up_convs_keep_them():
    spec = build_spec(PAPER_3D)
    convs = {s.name: [layer.channels for layer in s.layers if layer.kind == "conv3x3"] for s in spec.stages}
    assert convs["enc1"] == [32, 64] and convs["enc2"] == [64, 128] and convs["enc3"] == [128, 256]
    assert convs["bottleneck"] == [256, 512]
    assert [convs[f"dec{k}"] for k in (3, 2, 1)] == [[256, 256], [128, 128], [64, 64]]
    ups = [(s.in_channels, s.up_channels, s.concat_channels) for s in spec.stages if s.up_channels]
    assert ups == [(512, 512, 768), (256, 256, 384), (128, 128, 192)]


def test_parameters_reconcile_with_the_papers_figure():
    r = reconcile_config(PAPER_3D)
    assert r.paper_reported == PAPER_3D_PARAMS == 19_069_955
    assert r.without_upconv_biases == r.paper_reported  # the paper counts up-convolutions without bias
    assert r.weights_and_biases == 19_070_851
    assert r.upconv_biases == 896 == 512 + 256 + 128
    # BN before each of the 14 ReLUs: gamma and beta per channel trainable, mean and variance not.
    bn_channels = sum(layer.channels for layer in build_spec(PAPER_3D).layers if layer.kind == "conv3x3")
    assert r.batchnorm_trainable == r.batchnorm_moving == 2 * bn_channels
    assert r.keras_total == build_spec(PAPER_3D).totals.params == 19_070_851 + 4 * bn_channels


def test_macs_and_memory_use_all_three_axes():
    spec = build_spec(PAPER_3D)
    conv = next(layer for layer in spec.layers if layer.name == "enc1_conv1")
    assert conv.macs == 130 * 130 * 114 * 27 * 3 * 32
    assert conv.params == 27 * 3 * 32 + 32
    assert conv.activation_bytes == 130 * 130 * 114 * 32 * 4
    up = next(layer for layer in spec.layers if layer.name == "dec3_upconv")
    assert up.params == 8 * 512 * 512 + 512 and up.macs == 18 * 18 * 14 * 512 * 512


def test_size_of_three_numbers_keeps_its_order():
    assert parse_size("132x132x116") == (132, 132, 116)
    assert parse_size("60x572x572") == (60, 572, 572)
    assert parse_size("572") == (572, 572)  # one number stays a square image


def test_four_numbers_are_refused_in_one_line():
    with pytest.raises(ConfigError) as err:
        parse_size("132x132x116x3")
    message = str(err.value)
    assert "4 numbers" in message and "--in-channels" in message and "\n" not in message


def test_anisotropic_volume_names_the_axis_rule_and_nearest_sizes():
    with pytest.raises(ConfigError) as err:
        preset("3d-unet", input_size=(572, 572, 60))
    message = str(err.value)
    assert "along the slices" in message and "bottleneck_conv2 receives 2 voxels" in message
    assert "the smallest valid slice size is 92" in message  # why Z cannot go below 92
    assert "rows" not in message  # 572 is valid along the rows and columns
    assert preset("3d-unet", input_size=(572, 572, 92)).output_size == (484, 484, 4)


def test_check_axes_lists_nearest_valid_sizes_per_axis():
    checks = check_axes((572, 570, 60), depth=3)
    assert [(c.axis, c.valid) for c in checks] == [("rows", True), ("columns", False), ("slices", False)]
    assert (checks[1].below, checks[1].above) == (564, 572)
    assert (checks[2].below, checks[2].above) == (None, 92)
    assert checks[0].output == 572 - 88


def test_two_d_outputs_keep_their_json():
    data = json.loads(to_json(build_spec(UNetConfig())))
    assert set(data["config"]) == {"input_size", "in_channels", "num_classes", "depth", "base_filters", "padding"}
    assert "channel_schedule" in json.loads(to_json(build_spec(PAPER_3D)))["config"]


def test_csv_has_a_third_axis_column_for_a_volume():
    lines = to_csv(build_spec(PAPER_3D)).splitlines()
    header = lines[0].split(",")
    assert header[3:6] == ["in_h", "in_w", "in_d"] and "crop_slices" in header
    dec1 = dict(zip(header, lines[7].split(","), strict=True))
    assert (dec1["name"], dec1["crop_rows"], dec1["crop_slices"], dec1["out_d"]) == ("dec1", "40", "40", "28")


def test_receptive_field_of_a_volume_is_the_box_of_its_axes():
    """Separable layers: each axis of the volume has the field of a 2D network with that side."""
    report = analyse(build_spec(PAPER_3D))
    flat = UNetConfig(
        input_size=(132, 116), in_channels=3, num_classes=3, depth=3, base_filters=32,
        channel_schedule="double_before_pool",
    )  # fmt: skip
    plane = analyse(build_spec(flat))
    assert report.rows == report.cols == plane.rows and report.slices == plane.cols
    assert set(report.as_dict()["output"]) == {"rows", "cols", "slices"}


def test_tiling_a_volume():
    plan = plan_tiles((512, 512, 200), build_spec(PAPER_3D))
    assert plan.grid == (12, 12, 8) and plan.tiles == 12 * 12 * 8
    assert all(p - i == 88 for p, i in zip(plan.padded_size, plan.computed_size, strict=True))
    assert plan.input_origins()[1] == (0, 0, 28)
    assert set(plan.as_dict()["pad"]) == {"top", "bottom", "left", "right", "front", "back"}
    with pytest.raises(ConfigError, match="has 2 sides, but the network takes a volume"):
        plan_tiles((512, 512), build_spec(PAPER_3D))


def test_a_volume_too_large_for_the_budget_is_refused():
    big = preset("3d-unet", input_size=(516, 516, 516))
    with pytest.raises(ConfigError) as err:
        check_memory(big)
    message = str(err.value)
    assert "float32 activations per tile" in message and "--max-memory" in message and "132x132x116" in message
    assert check_volume_memory(PAPER_3D) == build_spec(PAPER_3D).totals.activation_bytes  # 2.0 GB fits 4 GiB


def test_the_3d_schedule_works_in_2d_and_bn_adds_layers():
    config = UNetConfig(input_size=188, channel_schedule="double_before_pool", norm="batch", base_filters=8)
    spec = build_spec(config)
    assert [layer.channels for layer in spec.stage("enc1").layers if layer.kind == "conv3x3"] == [8, 16]
    bns = [layer for layer in spec.layers if layer.kind == "batchnorm"]
    assert len(bns) == 2 * (2 * config.depth + 1) and all(b.params == 4 * b.channels for b in bns)
    assert "channels double before pool, batch norm" in config.describe()


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [("channel_schedule", "paper", "double_before_pool"), ("norm", "layer", "'batch'")],
)
def test_new_fields_are_validated(field, value, needle):
    with pytest.raises(ConfigError, match=needle):
        UNetConfig(**{field: value})


def test_kernel_names_follow_the_dimensions():
    assert ar.kernel_name(3, 3) == "3x3x3" and ar.kernel_name(2) == "2x2"
    with pytest.raises(ConfigError, match="2x2x2 max-pooling"):
        UNetConfig(input_size=(132, 132, 117), depth=3)


def test_a_volume_wrong_the_same_way_on_every_axis_is_one_short_clause():
    with pytest.raises(ConfigError) as err:
        UNetConfig(input_size=(132, 132, 116))  # the 3D U-Net's tile, at the 2D paper's depth 4
    message = str(err.value)
    assert "along the rows, columns and slices, enc4_pool receives 9, 9 and 7 voxels" in message
    assert message.count("enc4_pool") == 1 and "smallest valid size is 188 on each of them" in message
    assert message.endswith("with depth 3 (the 3D U-Net: --preset 3d-unet) it is valid") and len(message) < 330

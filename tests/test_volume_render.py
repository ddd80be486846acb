"""A volume's table in every format and its U, drawn by the same layout rules as the 2D figure.

The geometric checks are those of ``test_diagram_layout`` (read back from
Graphviz's own JSON), run on 3D networks.
"""

from __future__ import annotations

import shutil

import pytest
from test_diagram_layout import drawn, one
from test_diagram_layout import test_horizontal_arrows_and_crop_labels as _horizontal_arrows
from test_diagram_layout import test_nothing_overlaps as _nothing_overlaps
from test_diagram_layout import test_pooling_arrows_drop_straight_down_from_box_to_box as _pool_arrows
from test_diagram_layout import test_the_arms_are_mirror_images as _mirrored
from test_diagram_layout import test_up_convolution_arrows_rise_straight_into_the_up_sampled_half as _up_arrows

from unet_explain import build_spec
from unet_explain.config import preset
from unet_explain.render import text_formats
from unet_explain.render.text_diagram import u_text

VOLUMES = [
    preset("3d-unet"),
    preset("3d-unet", input_size=(572, 572, 92)),  # anisotropic: tall boxes, thin slices
    preset("3d-unet", input_size=(64, 96, 32), padding="same", depth=4, norm=None),
    preset("3d-unet", input_size=(44, 44, 60), depth=1, channel_schedule="double_per_level", base_filters=64),
]
IDS = ["paper", "572x572x92", "same-d4", "d1-2d-schedule"]

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


@needs_dot
@pytest.mark.parametrize("config", VOLUMES, ids=IDS)
def test_the_3d_u_follows_figure_1s_layout_rules(config):
    for check in (_pool_arrows, _up_arrows, _horizontal_arrows, _mirrored, _nothing_overlaps):
        check(config)


@needs_dot
def test_the_3d_u_labels_show_every_axis_and_both_halves_of_a_join():
    config = preset("3d-unet")
    drawing = drawn(config)
    texts = {t.text for t in drawing.texts}
    assert {"132x132x116", "44x44x28", "64+128", "256+512", "crop 40: 128x128x112 → 48x48x32"} <= texts
    assert {"conv 3x3x3, BN, ReLU", "max pool 2x2x2", "up-conv 2x2x2", "conv 1x1x1, softmax"} <= texts
    # Box height follows the in-plane size: enc1 > enc2 > enc3 > bottleneck.
    heights = [one(drawing, f"enc{k}_conv1").height for k in (1, 2, 3)] + [one(drawing, "bottleneck_conv1").height]
    assert heights == sorted(heights, reverse=True) and len(set(heights)) == 4


def test_the_text_u_of_a_volume():
    text = "\n".join(line.plain for line in u_text(build_spec(preset("3d-unet"))).renderables)
    assert "132x132x116 → 130x130x114 → 128x128x112" in text
    assert "crop 40: 128x128x112 → 48x48x32" in text and "256+512" in text
    assert "conv 3x3x3, BN, ReLU" in text and "sizes in voxels" in text


@pytest.mark.parametrize("fmt", ["markdown", "latex", "html"])
def test_every_table_format_names_the_3d_layers(fmt):
    out = text_formats.FORMATS[fmt](build_spec(preset("3d-unet")))
    assert "3x3x3 convs" in out and "2x2x2" in out and "BN" in out
    assert "output 44x44x28x3" in out and "(crop 40)" in out and "19,080,195" in out
    assert "2x2x2" not in text_formats.FORMATS[fmt](build_spec(preset("unet")))

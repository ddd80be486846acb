"""One rule for a size typed as one number: that side on every axis of the network (a square in 2D,
a cube on the 3D U-Net), for --input-size, --tile and --image alike, and in Python through preset()."""

from __future__ import annotations

import json

import pytest
from cli_run import run

from unet_explain.config import UNetConfig, preset


def test_preset_spreads_one_number_over_its_axes():
    assert preset("3d-unet", input_size=92).input_size == (92, 92, 92)
    assert preset("unet", input_size=188).input_size == (188, 188)
    assert UNetConfig(input_size=188).input_size == (188, 188)  # no preset: the 2D default
    assert preset("3d-unet", input_size=(188, 188)).input_size == (188, 188)  # two numbers stay an image


@pytest.mark.parametrize(
    ("argv", "size"),
    [
        (["--preset", "3d-unet", "--input-size", "92"], [92, 92, 92]),
        (["--preset", "3d-unet", "--input-size", "92x100x108"], [92, 100, 108]),
        (["--preset", "3d-unet", "--input-size", "188x188"], [188, 188]),
        (["--input-size", "188"], [188, 188]),
        (["--preset", "unet", "--input-size", "188"], [188, 188]),
    ],
)
def test_table_reads_one_number_on_every_axis(capsys, argv, size):
    code, out, err = run(capsys, "table", *argv, "-f", "json")
    assert (code, err) == (0, "")
    assert json.loads(out)["config"]["input_size"] == size


def test_tile_spreads_image_and_tile_over_the_volume(capsys):
    code, out, err = run(capsys, "tile", "--preset", "3d-unet", "--image", "300", "--tile", "92", "-f", "json")
    assert (code, err) == (0, "")
    plan = json.loads(out)
    assert plan["config"]["input_size"] == [92, 92, 92]
    assert plan["image_size"] == [300, 300, 300]


def test_fit_spreads_the_image_over_the_volume(capsys):
    code, out, err = run(capsys, "fit", "--preset", "3d-unet", "--memory", "6GB", "--image", "300", "-f", "json")
    assert (code, err) == (0, "")
    answer = json.loads(out)
    assert answer["image"] == [300, 300, 300]
    side, out_side = answer["tile"][0], answer["output_tile"][0]
    assert answer["tile"] == [side] * 3 and side > out_side
    assert answer["tiles_needed"] == (-(-300 // out_side)) ** 3

"""The overlap-tile plan picture: its numbers, its two colour sets and a text size that reads on the page."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from unet_explain import UNetConfig, build_spec
from unet_explain.core.tiling import plan_tiles
from unet_explain.render.figures.theme import PALETTE
from unet_explain.render.figures.tiling import figure_bytes, save_tiling_figure

SVG = "{http://www.w3.org/2000/svg}"
COLUMN_PX = 690  # the site's text column on a desktop


def _svg(image, config, theme):
    return figure_bytes(plan_tiles(image, build_spec(config)), "svg", theme).decode()


@pytest.mark.parametrize(
    ("image", "config"),
    [
        ((2000, 1500), UNetConfig()),
        ((300, 5000), UNetConfig(input_size=508, depth=3)),
        ((700, 900), UNetConfig(input_size=(512, 640), padding="same")),
    ],
)
def test_both_themes_carry_the_plans_numbers_in_readable_text(image, config):
    plan = plan_tiles(image, build_spec(config))
    light, dark = _svg(image, config, "light"), _svg(image, config, "dark")
    assert light != dark
    for svg, theme, other in ((light, "light", "dark"), (dark, "dark", "light")):
        text = "\n".join("".join(node.itertext()) for node in ET.fromstring(svg).iter(f"{SVG}text"))
        assert f"{image[0]}x{image[1]} image, {plan.grid[0]}x{plan.grid[1]} tiles" in text
        assert f"input tiles {plan.input_tile[0]}x{plan.input_tile[1]}" in text
        assert f"output tiles {plan.output_tile[0]}x{plan.output_tile[1]}" in text
        assert PALETTE[theme]["image"] in svg and PALETTE[other]["image"] not in svg
        # Text size in CSS px once the SVG (width in pt; 1 pt = 4/3 px) is scaled to the column.
        width_pt = float(re.search(r'width="([\d.]+)pt"', svg).group(1))
        sizes = [float(s) for s in re.findall(r"font-size: ([\d.]+)px", svg)]
        assert sizes and min(sizes) * COLUMN_PX / (width_pt * 4 / 3) >= 11, (min(sizes), width_pt)
        assert "<dc:date>" not in svg


def test_the_picture_is_deterministic_and_a_bad_theme_is_refused(tmp_path):
    config = UNetConfig()
    assert _svg((2000, 1500), config, "dark") == _svg((2000, 1500), config, "dark")
    with pytest.raises(ValueError, match="theme"):
        _svg((2000, 1500), config, "sepia")
    path = save_tiling_figure(plan_tiles((800, 800), build_spec(config)), tmp_path / "plan.png", theme="dark")
    assert path.read_bytes().startswith(b"\x89PNG")

"""The U at a page column's width: one box per stage, every crop, large text, the highlight drawn heavier."""

from __future__ import annotations

import re

from unet_explain import UNetConfig, build_spec
from unet_explain.config import preset
from unet_explain.render.u_compact import SMALL_PX, WIDTH, compact_u, focus


def _fonts(svg: str) -> list[int]:
    return [int(size) for size in re.findall(r'font-size="(\d+)"', svg)]


def test_the_paper_u_names_every_stage_and_crop_at_a_readable_size():
    spec = build_spec(UNetConfig())
    svg = compact_u(spec, ["bottleneck", "dec4"])
    assert f'width="{WIDTH}"' in svg and min(_fonts(svg)) == SMALL_PX >= 13
    assert re.findall(r'data-stage="(\w+)"', svg) == [s.name for s in spec.stages if s.name != "output"]
    assert re.findall(r">crop (\d+)<", svg) == ["4", "16", "40", "88"]  # deepest first, from the spec
    assert "568x568 · 64 ch" in svg and "input 572x572 · 1 ch" in svg and "output 388x388 · 2 classes" in svg
    heavy = re.findall(r'<g data-stage="(\w+)"><rect [^>]*stroke-width="3"', svg)
    assert heavy == ["bottleneck", "dec4"]


def test_focus_spans_the_highlighted_boxes():
    spec = build_spec(UNetConfig())
    assert focus(spec, None) == (0.0, 1.0)
    start, end = focus(spec, ["enc1"])
    assert 0 <= start < end < 0.5  # enc1 sits at the left
    start, end = focus(spec, ["enc1", "dec1"])
    assert start < 0.05 and end > 0.95


def test_a_volume_and_a_padded_network_draw_too():
    volume = compact_u(build_spec(preset("3d-unet")), None, "dark")
    assert "crop 4" in volume and "132x132x116" in volume
    same = compact_u(build_spec(UNetConfig(input_size=(576, 640), padding="same", depth=6)))
    assert re.findall(r">crop (\d+)<", same) == ["0"] * 6

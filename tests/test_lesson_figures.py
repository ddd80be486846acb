"""The walkthrough's teaching figures: valid SVG, text kept as text, the config's own numbers on them."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import second_derivation as second

from unet_explain import UNetConfig, build_spec
from unet_explain.config import preset
from unet_explain.core import names
from unet_explain.core.receptive_field import analyse
from unet_explain.core.tiling import plan_tiles
from unet_explain.errors import ConfigError
from unet_explain.render.figures.registry import LESSON_FIGURES, THEMES, render

SVG = "{http://www.w3.org/2000/svg}"

# The renders are shared (svg_of's cache) by the tests of one process: all of them on one xdist worker renders each
# figure once, instead of each worker rendering most of them again.
pytestmark = pytest.mark.xdist_group("lesson_figures")

CONFIGS = {
    "paper": UNetConfig(),
    "depth1": UNetConfig(input_size=100, depth=1),
    "depth3-508": UNetConfig(input_size=508, depth=3, in_channels=3),
    "depth6-rect": UNetConfig(input_size=(1276, 1340), depth=6, base_filters=8),
    "same-rect": UNetConfig(input_size=(512, 640), padding="same"),
    "same-depth6": UNetConfig(input_size=128, depth=6, padding="same"),
}

_cache: dict[tuple[str, str, str], bytes] = {}


def svg_of(name: str, config: str, theme: str = "light") -> bytes:
    key = (name, config, theme)
    if key not in _cache:
        _cache[key] = LESSON_FIGURES[name].maker(build_spec(CONFIGS[config]), theme)
    return _cache[key]


def texts(svg: bytes) -> str:
    """All text the SVG shows, one element per line."""
    root = ET.fromstring(svg)
    return "\n".join("".join(node.itertext()) for node in root.iter(f"{SVG}text"))


def size(pair: tuple[int, int]) -> str:
    return f"{pair[0]}x{pair[1]}"


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("name", LESSON_FIGURES)
def test_every_figure_is_svg_with_text_for_every_config(name, config):
    light, dark = svg_of(name, config, "light"), svg_of(name, config, "dark")
    for svg in (light, dark):
        root = ET.fromstring(svg)
        assert root.tag == f"{SVG}svg"
        assert len(list(root.iter(f"{SVG}text"))) >= 3, "text must stay text (svg.fonttype none)"
        assert b"<dc:date>" not in svg
    assert light != dark
    alt = LESSON_FIGURES[name].alt(build_spec(CONFIGS[config]))
    assert len(alt) > 40
    assert LESSON_FIGURES[name].title


def test_figures_are_deterministic():
    spec = build_spec(CONFIGS["paper"])
    for name, figure in LESSON_FIGURES.items():
        assert figure.maker(spec, "dark") == svg_of(name, "paper", "dark"), name


def test_unknown_theme_is_refused():
    with pytest.raises(ValueError, match="theme"):
        render("conv3x3", build_spec(UNetConfig()), "sepia")
    assert THEMES == ("light", "dark")


def test_paper_numbers_are_on_the_figures():
    """Hand-derived facts of the paper (unet-facts.md), not read back from the spec."""
    assert "572x572 → 570x570 → 568x568" in texts(svg_of("conv3x3", "paper"))
    pooling = texts(svg_of("pooling", "paper"))
    assert "568→284" in pooling and "64→32" in pooling
    assert "enc2_pool receives 279" in pooling.replace("\n", " ")
    assert "556, 572" in pooling.replace("\n", " ")
    upconv = texts(svg_of("upconv", "paper"))
    assert "dec4: 28x28, 1024 → 56x56, 512" in upconv and "dec1: 196x196, 128 → 392x392, 64" in upconv
    crop = texts(svg_of("copy_crop", "paper"))
    assert "568x568" in crop and "392x392" in crop and "88 px per side" in crop
    assert all(f"(crop {c})" in crop for c in (4, 16, 40, 88))
    tiles = texts(svg_of("tiles", "paper"))
    assert "184 px" in tiles and "2 x 92" in tiles
    field = texts(svg_of("receptive_field", "paper"))
    assert "188–204 px" in field and "100 pixels see 188 px" in field and "288 pixels see 204 px" in field
    assert "context margin: 92 px" in field


@pytest.mark.parametrize("config", [c for c in CONFIGS if c != "paper"])
def test_other_configs_show_their_own_numbers(config):
    cfg = CONFIGS[config]
    spec = build_spec(cfg)
    enc1 = spec.stage("enc1")
    assert " → ".join(size(s) for s in (enc1.in_size, *enc1.conv_sizes)) in texts(svg_of("conv3x3", config))

    pooling = texts(svg_of("pooling", config)).replace("\n", " ")
    for stage in spec.stages[: cfg.depth]:
        assert str(stage.pool_size[1]) in pooling
    # The failure example is a real invalid tile, with the library's own message for it.
    named = re.search(r"--input-size (\d+(?:x\d+)?) is not valid", pooling)
    assert named, pooling
    h, _, w = named.group(1).partition("x")
    with pytest.raises(ConfigError) as err:
        UNetConfig(input_size=(int(h), int(w or h)), depth=cfg.depth, padding=cfg.padding)
    assert " ".join(err.value.with_flag_names().split()) in " ".join(pooling.split())

    upconv = texts(svg_of("upconv", config))
    for stage in spec.stages:
        if stage.path == names.EXPANSIVE:
            assert f"{stage.name}: {size(stage.in_size)}, {stage.in_channels} → {size(stage.up_size)}" in upconv

    crop = texts(svg_of("copy_crop", config))
    dec1 = spec.stage("dec1")
    assert size(dec1.skip_size) in crop and size(dec1.up_size) in crop
    assert f"{dec1.crop[0]} px" in crop
    if cfg.padding == "same":
        assert "0 px per side cropped" in crop

    plan = plan_tiles((spec.totals.output_size[0], 2 * spec.totals.output_size[1]), spec)
    overlap = cfg.input_size[1] - spec.totals.output_size[1]
    tiles = texts(svg_of("tiles", config))
    assert size(plan.input_tile) in tiles
    assert f"overlap {overlap} px" in tiles if cfg.padding == "same" else f"overlap by {overlap} px" in tiles

    field = texts(svg_of("receptive_field", config))
    report = analyse(spec)
    assert str(report.cols.smallest) in field and str(report.cols.largest) in field
    assert f"context margin: {spec.totals.context_margin[1]} px" in field
    assert f"{report.textbook} px" in field


def test_drawing_figures_imports_no_tensorflow():
    probe = (
        "import sys\n"
        "from unet_explain import UNetConfig, build_spec\n"
        "from unet_explain.render.figures.registry import LESSON_FIGURES\n"
        "for f in LESSON_FIGURES.values(): f.maker(build_spec(UNetConfig()), 'light')\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'mkdocs') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_cli_draws_a_figure_for_the_config_given(tmp_path, capsys):
    from unet_explain.cli import main

    target = tmp_path / "crop.svg"
    assert main(["figure", "copy_crop", "--input-size", "508", "--depth", "3", "-o", str(target)]) == 0
    spec = build_spec(UNetConfig(input_size=508, depth=3))
    dec1 = spec.stage("dec1")
    shown = texts(target.read_bytes())
    assert f"{size(dec1.skip_size)} → {size(dec1.up_size)} (crop {dec1.crop[0]})" in shown
    assert "Wrote the copy_crop figure (light)" in capsys.readouterr().out
    png = tmp_path / "tiles.png"
    assert main(["figure", "tiles", "--theme", "dark", "-o", str(png)]) == 0
    assert png.read_bytes().startswith(b"\x89PNG")


def test_cli_figure_refuses_a_bad_name_or_size_in_one_line(tmp_path, capsys):
    from unet_explain.cli import main

    assert main(["figure", "histogram"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid choice: 'histogram'" in err
    assert main(["figure", "tiles", "--input-size", "570", "-o", str(tmp_path / "t.svg")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nearest valid sizes: 556, 572" in err
    assert not list(tmp_path.iterdir())


def test_an_entry_is_callable_like_its_maker():
    spec = build_spec(CONFIGS["depth1"])
    assert LESSON_FIGURES["upconv"](spec, "light") == svg_of("upconv", "depth1", "light")


def test_paper_numbers_on_the_side_trace_levels_and_costs():
    """Hand-derived facts of the paper (unet-facts.md): 572 → 28 → 388, 1024 channels, 31,030,658 weights."""
    trace = texts(svg_of("side_trace", "paper"))
    assert "572x572 → 28x28 → 388x388" in trace
    assert "184 px = 2 x the context margin of 92 px" in trace
    for side in (568, 280, 136, 64, 28, 52, 100, 196, 388):
        assert str(side) in trace.split("\n"), side
    alt = LESSON_FIGURES["side_trace"].alt(build_spec(UNetConfig()))
    assert "572 → 570 → 568 → 284 → 282 → 280 → 140" in alt and "30 → 28 → 56 → 54 → 52" in alt
    levels = texts(svg_of("levels", "paper"))
    assert "the smallest map (28x28) with the most channels (1024)" in levels.replace("\n", " ")
    assert "14,157,824 of 31,030,658 (46%)" in levels.replace("\n", " ")
    costs = texts(svg_of("costs", "paper"))
    assert "parameters: 31,030,658 in all" in costs
    assert "multiply-accumulates per tile: 150.43 G" in costs
    assert "activation memory per tile: 574.9 MB" in costs
    assert "14.2M" in costs and "130" in costs.split("\n")  # the bottleneck's and the output's weights


def _short_expected(n: float) -> str:
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= factor:
            return f"{n / factor:.3g}{prefix}"
    return f"{n:g}"


@pytest.mark.parametrize("config", CONFIGS)
def test_side_trace_levels_and_costs_show_each_configs_numbers(config):
    cfg = CONFIGS[config]
    spec = build_spec(cfg)
    bottom = spec.stage("bottleneck")
    shown = texts(svg_of("side_trace", config)).split("\n")
    title = f"{size(cfg.input_size)} → {size(bottom.out_size)} → {size(spec.totals.output_size)}"
    assert any(title in line for line in shown)
    square = all(s.out_size[0] == s.out_size[1] for s in spec.stages) and cfg.input_size[0] == cfg.input_size[1]
    for stage in spec.stages[:-1]:
        want = [str(stage.out_size[0])] if square else [str(stage.out_size[0]), str(stage.out_size[1])]
        assert all(w in shown for w in want), (stage.name, want)
    assert ("rows" in shown and "columns" in shown) != square
    if cfg.padding == "same":
        assert any("padding 'same'" in line for line in shown)
    else:
        lost = cfg.input_size[1] - spec.totals.output_size[1]
        assert any(f"{lost} px" in line and f"{spec.totals.context_margin[1]} px" in line for line in shown)

    levels = texts(svg_of("levels", config))
    for stage in spec.stages[: cfg.depth + 1]:
        assert size(stage.out_size) in levels.split("\n") and str(stage.channels) in levels.split("\n")
    assert f"{bottom.params:,} of {spec.totals.params:,}" in levels.replace("\n", " ")
    assert bottom.channels == max(s.channels for s in spec.stages)

    costs = texts(svg_of("costs", config)).split("\n")
    assert f"parameters: {spec.totals.params:,} in all" in costs
    for stage in spec.stages:
        assert _short_expected(stage.params) in costs and _short_expected(stage.macs) in costs, stage.name
        assert f"{stage.activation_bytes / 1e6:.3g}" in costs, stage.name
    assert spec.totals.params == second.params(cfg.in_channels, cfg.num_classes, cfg.depth, cfg.base_filters)


def test_tiles_figure_mirrors_an_f_and_says_so():
    import numpy as np

    from unet_explain.render.figures.tiles import _texture

    image = _texture(120, 240, margin=30)
    padded = np.pad(image, ((0, 0), (30, 0)), mode="reflect")
    assert np.allclose(padded[:, :30], image[:, 30:0:-1])  # the border is the image, flipped
    rows = image[:, :30] > 1.3  # the "F" (bright, near the left edge) is not symmetric about any column
    assert rows.any() and not np.array_equal(rows, rows[:, ::-1])
    assert '"F" near the left edge appears flipped' in texts(svg_of("tiles", "paper")).replace("\n", " ")
    assert "flipped" in LESSON_FIGURES["tiles"].alt(build_spec(UNetConfig()))


def test_tiles_figure_of_a_huge_tile_is_drawn_on_the_display_grid():
    """A 100,000-pixel tile (depth 1) still gets its two-tile picture: the image is sampled, never built whole."""
    spec = build_spec(UNetConfig(input_size=100_000, depth=1))
    svg = LESSON_FIGURES["tiles"](spec, "light")
    assert "100000x100000" in texts(svg)


def test_every_figure_module_is_registered_and_every_entry_draws():
    """Adding a figure is a module plus one registry line: neither may be forgotten."""
    import re
    from pathlib import Path

    from unet_explain.render.figures import registry

    folder = Path(registry.__file__).parent
    drawn = {p.stem for p in folder.glob("*.py") if re.search(r"^def draw\(spec", p.read_text(encoding="utf-8"), re.M)}
    assert drawn == set(LESSON_FIGURES)
    for figure in LESSON_FIGURES.values():
        assert callable(figure.module().alt) and callable(figure.module().draw)


def test_a_figure_marked_network_free_draws_the_same_for_every_network():
    # What lets every site share one drawing of it (unet_explain.docs.figures keys it as the paper's site does).
    free = [name for name, figure in LESSON_FIGURES.items() if not figure.network]
    assert free == ["augmentation"]
    for name in free:
        for config in CONFIGS:
            for theme in THEMES:
                assert svg_of(name, config, theme) == svg_of(name, "paper", theme), (name, config, theme)
            assert LESSON_FIGURES[name].alt(build_spec(CONFIGS[config])) == LESSON_FIGURES[name].alt(
                build_spec(CONFIGS["paper"])
            )


def test_sites_of_two_networks_share_the_network_free_drawings_only(tmp_path, monkeypatch):
    from unet_explain.docs.cache import Cache
    from unet_explain.docs.figures import figure
    from unet_explain.docs.site import site_flags
    from unet_explain.docs.site_config import Site

    monkeypatch.setattr("unet_explain.docs.figures.THEMES", ("light",))
    root = Path(__file__).resolve().parent.parent

    def drawn(config: UNetConfig, args: str) -> list[Path]:
        cache = Cache(tmp_path, Site(flags=site_flags(config), root=root))
        return [asset.path for asset in figure("figure", args, cache)]

    other, volume = UNetConfig(input_size=188, depth=2), preset("3d-unet")
    assert drawn(UNetConfig(), "augmentation") == drawn(other, "augmentation") == drawn(volume, "augmentation")
    assert drawn(UNetConfig(), "conv3x3") != drawn(other, "conv3x3")

"""The U diagram: graph structure (not pixels), a golden DOT file, real renders, and failure paths."""

from __future__ import annotations

import io
import os
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from cli_run import run
from PIL import Image

from unet_explain import OutputError, UNetConfig, build_spec
from unet_explain.render import diagram as d
from unet_explain.render.output import atomic_write


def unquote(value: object) -> str:
    return str(value).strip('"')


def op_of(edge) -> str:
    """The operation an edge draws: the first word of its class (``pool enc1``)."""
    return unquote(edge.get("class")).split()[0]


def edges_by_op(graph) -> dict[str, list]:
    out: dict[str, list] = {}
    for edge in graph.get_edges():
        if op_of(edge) != "legend":
            out.setdefault(op_of(edge), []).append(edge)
    return out


def nodes(graph) -> dict[str, object]:
    return {unquote(n.get_name()): n for n in graph.get_nodes()}


def node(graph, name: str):
    return nodes(graph)[name]


def map_nodes(graph) -> set[str]:
    return {name for name, n in nodes(graph).items() if unquote(n.get("class")).startswith("map")}


def feature_maps(depth: int) -> set[str]:
    maps = {"input_tile", "bottleneck_conv1", "bottleneck_conv2", "output_conv"}
    for k in range(1, depth + 1):
        maps |= {f"enc{k}_conv1", f"enc{k}_conv2", f"enc{k}_pool", f"dec{k}_concat", f"dec{k}_conv1", f"dec{k}_conv2"}
    return maps


@pytest.mark.parametrize("depth", range(1, 7))
def test_a_node_per_feature_map_named_after_its_keras_layer_and_an_edge_per_operation(depth):
    size = {1: 188, 2: 188, 3: 188, 4: 188, 5: 380, 6: 764}[depth]
    graph = d.unet_graph(UNetConfig(input_size=size, depth=depth, base_filters=8))
    assert map_nodes(graph) == feature_maps(depth)
    counts = Counter({op: len(edges) for op, edges in edges_by_op(graph).items()})
    assert counts == {"conv": 4 * depth + 2, "pool": depth, "upconv": depth, "copy": depth, "head": 1}
    every = set(nodes(graph))
    for name in feature_maps(depth):  # each map's channels and size are written beside it
        assert {f"{name}__channels", f"{name}__size"} <= every
    stage_names = {f"{s}__name" for s in (*(f"enc{k}" for k in range(1, depth + 1)), "bottleneck", "output")}
    assert stage_names | {f"dec{k}__name" for k in range(1, depth + 1)} <= every
    legend = [unquote(e.get("class")) for e in graph.get_edges() if op_of(e) == "legend"]
    assert legend == [f"legend {op}" for op in d.OPERATIONS]  # each operation drawn once more, in the legend
    assert unquote(graph.get("layout")) == "nop2"  # positions are ours; Graphviz draws them as given
    assert all(unquote(n.get("pos")) for n in graph.get_nodes())
    assert all(unquote(e.get("pos")).startswith("e,") for e in graph.get_edges())


def test_paper_crop_labels_and_endpoints():
    graph = d.unet_graph()
    copies = {unquote(e.get_destination()): unquote(e.get("label")) for e in edges_by_op(graph)["copy"]}
    assert copies == {
        "dec1_concat:copy": "crop 88: 568 → 392",
        "dec2_concat:copy": "crop 40: 280 → 200",
        "dec3_concat:copy": "crop 16: 136 → 104",
        "dec4_concat:copy": "crop 4: 64 → 56",
    }
    sources = {unquote(e.get_source()) for e in edges_by_op(graph)["copy"]}
    assert sources == {f"enc{k}_conv2" for k in range(1, 5)}  # copied before pooling
    ups = {(unquote(e.get_source()), unquote(e.get_destination())) for e in edges_by_op(graph)["upconv"]}
    assert ups == {  # from the last map of the level below into the up-sampled half
        ("bottleneck_conv2", "dec4_concat:up"),
        ("dec4_conv2", "dec3_concat:up"),
        ("dec3_conv2", "dec2_concat:up"),
        ("dec2_conv2", "dec1_concat:up"),
    }
    pools = {(unquote(e.get_source()), unquote(e.get_destination())) for e in edges_by_op(graph)["pool"]}
    assert pools == {(f"enc{k}_conv2", f"enc{k}_pool") for k in range(1, 5)}


def label_text(graph, name: str) -> str:
    return re.sub(r"<[^>]+>", "", unquote(node(graph, name).get("label"))[1:-1])


def test_labels_show_channels_and_size():
    graph = d.unet_graph()
    assert label_text(graph, "enc1_conv2__channels") == "64"
    assert label_text(graph, "enc1_conv2__size") == "568x568"
    assert label_text(graph, "dec4_concat__channels") == "512+512"  # cropped copy + up-sampled map
    assert label_text(graph, "dec4_concat__size") == "56x56"
    assert label_text(graph, "bottleneck_conv2__channels") == "1024"
    assert label_text(graph, "enc3__name") == "enc3" and label_text(graph, "dec2__name") == "dec2"
    concat = unquote(node(graph, "dec4_concat").get("label"))
    assert 'PORT="copy"' in concat and 'PORT="up"' in concat


def test_same_padding_says_no_crop():
    graph = d.unet_graph(UNetConfig(input_size=(64, 96), depth=2, padding="same"))
    labels = sorted(unquote(e.get("label")) for e in edges_by_op(graph)["copy"])
    assert labels == ["copy, no crop (crop 0): 32x48", "copy, no crop (crop 0): 64x96"]


def test_non_square_crop_label():
    spec = build_spec(UNetConfig(input_size=(188, 204)))
    assert d.crop_label(spec.stage("dec1")) == "crop 88: 184x200 → 8x24"


def test_golden_dot(golden):
    golden("unet_paper.dot", d.diagram().to_dot())


needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def svg_text_px(svg: str) -> tuple[float, float, float]:
    """(width in px at 96 dpi, smallest text height in px at that size, scale) of a Graphviz SVG."""
    width_pt = float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1))
    scale = float(re.search(r'transform="scale\(([\d.]+)', svg).group(1))
    smallest = min(float(v) for v in re.findall(r'font-size="([\d.]+)"', svg))
    return width_pt * 96 / 72, smallest * scale * 96 / 72, scale


@needs_dot
@pytest.mark.parametrize(
    "config",
    [UNetConfig(), UNetConfig(input_size=92, depth=1), UNetConfig(input_size=(1148, 1276), depth=6)],
    ids=["paper", "depth1", "depth6-rect"],
)
def test_default_png_is_900_to_2400_px_wide_with_text_at_least_11_px(config, tmp_path):
    svg = d.diagram(config).render("svg").decode("utf-8")
    svg_width, text_px, _ = svg_text_px(svg)
    assert text_px >= 11, f"smallest text {text_px:.1f} px"
    image = Image.open(io.BytesIO(d.diagram(config).render("png")))
    assert 900 <= image.width <= 2400
    assert abs(image.width - svg_width) <= 2  # the PNG is the SVG at 96 dpi, so its text is as measured


@needs_dot
def test_png_render_is_a_legible_u(tmp_path):
    path = d.diagram().save(tmp_path / "unet.png")
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data)).convert("RGB")
    width, height = image.size
    assert 1200 <= width <= 2000 and 800 <= height <= 1300  # the paper's network: a slide-sized figure
    colours = Counter({colour: count for count, colour in image.getcolors(width * height)})
    non_white = 1 - colours[(255, 255, 255)] / (width * height)
    assert 0.03 < non_white < 0.6  # neither blank nor a solid block
    for op in ("conv", "pool", "upconv"):
        hex_colour = d.THEMES["light"].edges[op]
        rgb = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        assert colours[rgb] > 50, f"{op} edges are drawn in {hex_colour}"


@needs_dot
def test_svg_keeps_text_as_text_and_pdf_renders(tmp_path):
    svg = d.diagram().save(tmp_path / "unet.svg").read_text(encoding="utf-8")
    assert "<svg" in svg and "dec4_concat" in svg
    texts = set(re.findall(r"<text[^>]*>([^<]*)</text>", svg))
    assert {"crop 88: 568 → 392", "enc1", "bottleneck", "dec1", "output", "568x568", "512+512"} <= texts
    assert "<image" not in svg
    assert d.diagram()._repr_svg_().count("<svg") == 1
    assert (d.diagram().save(tmp_path / "unet.pdf")).read_bytes().startswith(b"%PDF")


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / "unet.png"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):
        atomic_write(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["unet.png"]


def test_missing_folder_is_one_clear_error(tmp_path):
    with pytest.raises(OutputError, match=r"the folder .* does not exist"):
        atomic_write(tmp_path / "nope" / "unet.png", b"x")


# The commands run in-process (tests/cli_run.py) in the test's folder: the same status and output as a process.


@needs_dot
def test_cli_default_writes_unet_png_and_says_where(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "diagram")
    assert code == 0, err
    assert (tmp_path / "unet.png").read_bytes().startswith(b"\x89PNG")
    assert out.startswith("Wrote the U diagram (png, ") and out.endswith(") to unet.png\n")


def test_without_graphviz_png_fails_cleanly_and_dot_text_work(tmp_path, monkeypatch, capsys):
    no_dot = tmp_path / "bin"
    no_dot.mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(no_dot))
    code, _, err = run(capsys, "diagram", "-o", "unet.png")
    assert code == 1
    assert err.count("\n") == 1 and "apt-get install graphviz" in err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin"]  # nothing half-written
    assert run(capsys, "diagram", "-f", "dot", "-o", "u.dot")[0] == 0
    assert (tmp_path / "u.dot").read_text().startswith("digraph unet {")
    code, out, _ = run(capsys, "diagram", "-f", "text")
    assert code == 0 and "crop 88: 568 → 392" in out and "bottleneck" in out


@pytest.mark.parametrize(
    ("argv", "code", "fragment"),
    [
        (["-o", "u.jpg"], 2, "cannot tell the format from its suffix '.jpg'"),
        (["-o", "unet"], 2, "a name without a suffix"),
        (["-o", "u.svg", "-f", "png"], 2, "has suffix '.svg' but --format is 'png'"),
        (["-o", "missing/u.png"], 2, "the folder 'missing' does not exist"),
        (["--input-size", "358"], 2, "nearest valid sizes: 348, 364"),
        (["-f", "text", "--layers"], 2, "--layers draws Keras's layer graph with Graphviz"),
    ],
)
def test_cli_diagram_bad_input(tmp_path, monkeypatch, capsys, argv, code, fragment):
    monkeypatch.chdir(tmp_path)
    status, _, err = run(capsys, "diagram", *argv)
    assert status == code
    assert fragment in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.keras
@needs_dot
def test_layers_draws_the_keras_graph(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "diagram", "--layers", "-f", "dot", "-o", "layers.dot", "--input-size", "188")
    assert code == 0, err
    dot = (tmp_path / "layers.dot").read_text()
    assert "dec4_crop" in dot and "Cropping2D" in dot and "enc1_conv1" in dot


def is_muted(n) -> bool:
    return "muted" in unquote(n.get("class")).split()


def test_highlight_draws_named_stages_in_full_colour_and_mutes_the_rest():
    theme = d.THEMES["light"]
    graph = d.unet_graph(highlight=["enc2", "dec2"])
    lit = {"enc2_conv1", "enc2_conv2", "enc2_pool", "dec2_concat", "dec2_conv1", "dec2_conv2"}
    for name in feature_maps(4):
        n = node(graph, name)
        assert is_muted(n) == (name not in lit), name
        if name in lit and name != "dec2_concat":
            assert unquote(n.get("fillcolor")) == theme.map_fill
        elif name not in lit and name != "dec4_concat" and name.endswith(("conv1", "conv2", "pool")):
            assert unquote(n.get("fillcolor")) == theme.muted_fill
        # its text goes with it
        assert is_muted(node(graph, f"{name}__channels")) == (name not in lit)
    assert theme.up_fill in unquote(node(graph, "dec2_concat").get("label"))
    assert theme.up_fill not in unquote(node(graph, "dec3_concat").get("label"))
    assert not is_muted(node(graph, "enc2__name")) and is_muted(node(graph, "enc3__name"))
    colours = {
        (unquote(e.get_source()), unquote(e.get_destination())): unquote(e.get("color")) for e in graph.get_edges()
    }
    assert colours[("enc2_conv2", "enc2_pool")] == theme.edges["pool"]
    assert colours[("enc1_pool", "enc2_conv1")] == theme.edges["conv"]
    assert colours[("dec3_conv2", "dec2_concat:up")] == theme.edges["upconv"]
    assert colours[("enc2_conv2", "dec2_concat:copy")] == theme.edges["copy"]
    assert colours[("enc3_conv1", "enc3_conv2")] == theme.muted_stroke
    assert colours[("enc1_conv2", "dec1_concat:copy")] == theme.muted_stroke
    # Without a highlight nothing is muted; the same layout either way.
    plain = d.unet_graph()
    assert not any(is_muted(n) for n in plain.get_nodes() if n.get("class"))
    assert {n: unquote(x.get("pos")) for n, x in nodes(plain).items()} == {
        n: unquote(x.get("pos")) for n, x in nodes(graph).items()
    }


def test_unknown_highlight_is_one_error_listing_the_stages():
    with pytest.raises(d.ConfigError, match=r"unknown stage 'enc5'; for depth 4 the stages are enc1, .*, output"):
        d.unet_graph(highlight="enc2,enc5")
    assert d.check_highlight(build_spec(UNetConfig()), "enc1, dec1") == {"enc1", "dec1"}


@pytest.mark.parametrize("theme", ["light", "dark", "transparent"])
def test_themes_colour_background_text_and_arrows(theme):
    t = d.THEMES[theme]
    graph = d.unet_graph(theme=theme)
    assert unquote(graph.get("bgcolor")) == t.background
    assert unquote(graph.get("fontcolor")) == t.text
    assert unquote(node(graph, "enc1_conv1").get("fillcolor")) == t.map_fill
    assert f'COLOR="{t.text}"' in unquote(node(graph, "enc1__name").get("label"))
    pool = edges_by_op(graph)["pool"][0]
    assert unquote(pool.get("color")) == t.edges["pool"]


def test_dark_theme_reads_on_dark():
    def luminance(hex_colour: str) -> float:
        r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    dark = d.THEMES["dark"]
    assert luminance(dark.background) < 0.15 and luminance(dark.text) > 0.8
    assert all(luminance(c) > 0.4 for c in dark.edges.values())  # arrows stand out from the background
    assert d.THEMES["transparent"].background == "transparent"
    with pytest.raises(d.ConfigError, match="theme must be one of light, dark, transparent"):
        d.unet_graph(theme="blue")


@needs_dot
def test_dark_and_transparent_pngs(tmp_path):
    dark = Image.open(io.BytesIO(d.diagram(theme="dark").render("png"))).convert("RGBA")
    assert dark.getpixel((2, 2))[:3] == tuple(int(d.THEMES["dark"].background[i : i + 2], 16) for i in (1, 3, 5))
    clear = Image.open(io.BytesIO(d.diagram(theme="transparent").render("png"))).convert("RGBA")
    assert clear.getpixel((2, 2))[3] == 0


@needs_dot
def test_cli_highlight_and_theme(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "diagram", "--highlight", "enc1,dec1", "--theme", "dark", "-f", "dot", "-o", "u.dot")
    assert code == 0, err
    dot = (tmp_path / "u.dot").read_text()
    assert d.THEMES["dark"].background in dot and "muted" in dot
    code, _, err = run(capsys, "diagram", "--highlight", "enc1,middle")
    assert code == 2 and err.count("\n") == 1
    assert "--highlight got unknown stage 'middle'; for depth 4 the stages are enc1, enc2" in err
    assert not (tmp_path / "unet.png").exists()


def text_u(config: UNetConfig, highlight=None) -> list[str]:
    from rich.console import Console

    from unet_explain.render.text_diagram import u_text

    buffer = io.StringIO()
    Console(file=buffer, width=120, color_system=None).print(u_text(build_spec(config), highlight), soft_wrap=True)
    return buffer.getvalue().splitlines()


def span(line: str, token: str, start: int = 0) -> range:
    i = line.index(token, start)
    return range(i, i + len(token))


@pytest.mark.parametrize(
    "config",
    [UNetConfig(), UNetConfig(input_size=(764, 956), depth=6, base_filters=16), UNetConfig(input_size=64, depth=1)],
    ids=["paper", "depth6-rect", "depth1"],
)
def test_text_u_follows_figure_1(config):
    lines = text_u(config)
    spec = build_spec(config)
    depth = config.depth
    rows = {}
    for k in range(1, depth + 1):
        rows[k] = next(i for i, line in enumerate(lines) if f" enc{k} " in f"{line} ")
    rows[depth + 1] = next(i for i, line in enumerate(lines) if "bottleneck " in line)

    def side(size: tuple[int, int]) -> str:
        return str(size[0]) if size[0] == size[1] else f"{size[0]}x{size[1]}"

    for k in range(1, depth + 1):
        enc, dec = spec.stage(f"enc{k}"), spec.stage(f"dec{k}")
        row, below, arrows = lines[rows[k]], lines[rows[k + 1]], lines[rows[k] + 1]
        last = span(row, side(enc.out_size), row.index(f"enc{k}"))  # the map that is copied and pooled
        pooled = span(below, side(enc.pool_size))
        down = arrows.index("↓")
        assert down in last and down in pooled  # the pooling arrow drops straight down
        assert d.crop_label(dec) in row and row.index(d.crop_label(dec)) > last.stop
        up = arrows.index("↑")
        concat = span(row, side(dec.up_size), row.index(d.crop_label(dec)) + len(d.crop_label(dec)))
        source = spec.stage("bottleneck" if k == depth else f"dec{k + 1}")
        rising = span(below, side(source.out_size), max(0, up - 6))
        assert up in concat and up in rising  # the up-conv arrow rises straight into the concatenation
        assert f"{enc.channels}+{dec.up_channels}" in lines[rows[k] - 1]
        assert row.rstrip().endswith(f"dec{k}" + (" + output" if k == 1 else ""))
    # The contracting path steps right level by level, the expansive path left: a U.
    starts = [len(lines[rows[k]]) - len(lines[rows[k]].lstrip()) for k in range(1, depth + 2)]
    assert starts == sorted(starts) and len(set(starts)) == depth + 1
    assert "max pool 2x2" in lines[-2] and "up-conv 2x2" in lines[-2]


def test_text_u_highlight_dims_the_other_stages():
    from rich.console import Console

    from unet_explain.render.text_diagram import u_text

    console = Console(file=io.StringIO(), width=200, color_system="standard", force_terminal=True)
    console.print(u_text(build_spec(UNetConfig()), "bottleneck"), soft_wrap=True)
    out = console.file.getvalue()
    assert "\x1b[2m" in out  # dim
    with pytest.raises(d.ConfigError, match="unknown stage 'enc9'"):
        u_text(build_spec(UNetConfig()), "enc9")


ROOT = Path(__file__).resolve().parent.parent


@needs_dot
@pytest.mark.parametrize(("name", "theme"), [("unet.png", "light"), ("unet-dark.png", "dark")])
def test_readme_figures_are_fresh_renders(name, theme):
    """The README's figures are what `make figures` draws today (same size, same colours)."""
    committed = Image.open(ROOT / "docs" / "assets" / name).convert("RGB")
    fresh = Image.open(io.BytesIO(d.diagram(theme=theme).render("png"))).convert("RGB")
    assert committed.size == fresh.size, "run 'make figures' and commit docs/assets/*.png"
    import numpy as np

    same = (np.asarray(committed) == np.asarray(fresh)).all(axis=2).mean()
    assert same > 0.98, "run 'make figures' and commit docs/assets/*.png"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"docs/assets/{name}" in readme
    if theme == "light":
        width, height = (int(v) for v in re.search(r"The default PNG is (\d+)x(\d+) px", readme).groups())
        assert (width, height) == fresh.size

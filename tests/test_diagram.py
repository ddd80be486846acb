"""The U diagram: graph structure (not pixels), a golden DOT file, real renders, and failure paths."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from unet_explain import OutputError, UNetConfig, build_spec
from unet_explain.render import diagram as d
from unet_explain.render.output import atomic_write

COLOR_TO_OP = {op.color: name for name, op in d.OPERATIONS.items()}


def unquote(value: object) -> str:
    return str(value).strip('"')


def edges_by_op(graph) -> dict[str, list]:
    out: dict[str, list] = {}
    for edge in graph.get_edges():
        color = unquote(edge.get("color"))
        if color in COLOR_TO_OP:
            out.setdefault(COLOR_TO_OP[color], []).append(edge)
    return out


def ranks(graph) -> dict[str, set[str]]:
    return {unquote(sub.get_name()): {unquote(n.get_name()) for n in sub.get_nodes()} for sub in graph.get_subgraphs()}


def node(graph, name: str):
    return next(n for sub in graph.get_subgraphs() for n in sub.get_nodes() if unquote(n.get_name()) == name)


def feature_maps(depth: int) -> set[str]:
    maps = {"input_tile", "bottleneck_conv1", "bottleneck_conv2", "output_conv"}
    for k in range(1, depth + 1):
        maps |= {f"enc{k}_conv1", f"enc{k}_conv2", f"enc{k}_pool", f"dec{k}_concat", f"dec{k}_conv1", f"dec{k}_conv2"}
    return maps


@pytest.mark.parametrize("depth", range(1, 7))
def test_a_node_per_feature_map_and_an_edge_per_operation(depth):
    size = {1: 188, 2: 188, 3: 188, 4: 188, 5: 380, 6: 764}[depth]
    graph = d.unet_graph(UNetConfig(input_size=size, depth=depth, base_filters=8))
    nodes = {unquote(n.get_name()) for sub in graph.get_subgraphs() for n in sub.get_nodes()}
    assert nodes == feature_maps(depth) | {"legend"}
    counts = Counter({op: len(edges) for op, edges in edges_by_op(graph).items()})
    assert counts == {"conv": 4 * depth + 2, "pool": depth, "upconv": depth, "copy": depth, "head": 1}


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
    # Drawn from the upper map with dir=back, so the arrow points up into the blue half.
    assert ups == {
        ("dec4_concat:up", "bottleneck_conv2"),
        ("dec3_concat:up", "dec4_conv2"),
        ("dec2_concat:up", "dec3_conv2"),
        ("dec1_concat:up", "dec2_conv2"),
    }
    assert all(unquote(e.get("dir")) == "back" for e in edges_by_op(graph)["upconv"])


def test_encoder_and_decoder_of_a_level_share_a_row():
    rows = ranks(d.unet_graph())
    for k in range(1, 5):
        row = rows[f"level{k}"]
        assert {f"enc{k}_conv1", f"enc{k}_conv2", f"dec{k}_concat", f"dec{k}_conv1", f"dec{k}_conv2"} <= row
    assert {"input_tile", "output_conv"} <= rows["level1"]
    assert rows["level5"] == {"enc4_pool", "bottleneck_conv1", "bottleneck_conv2"}  # the bottom of the U


def test_labels_show_channels_and_size():
    graph = d.unet_graph()
    label = unquote(node(graph, "enc1_conv2").get("label"))
    assert "<B>64</B>" in label and "568x568" in label
    concat = unquote(node(graph, "dec4_concat").get("label"))
    assert concat.count("<B>512</B>") == 2 and "56x56" in concat and 'PORT="copy"' in concat


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


@needs_dot
def test_png_render_is_a_legible_u(tmp_path):
    path = d.diagram().save(tmp_path / "unet.png")
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data)).convert("RGB")
    width, height = image.size
    assert 800 <= width <= 1500 and 500 <= height <= 1000  # fits a docs page, legible at 100%
    colours = Counter({colour: count for count, colour in image.getcolors(width * height)})
    non_white = 1 - colours[(255, 255, 255)] / (width * height)
    assert 0.03 < non_white < 0.6  # neither blank nor a solid block
    for op in ("conv", "pool", "upconv"):
        hex_colour = d.OPERATIONS[op].color
        rgb = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        assert colours[rgb] > 50, f"{op} edges are drawn in {hex_colour}"


@needs_dot
def test_svg_and_pdf_renders(tmp_path):
    svg = d.diagram().save(tmp_path / "unet.svg").read_text(encoding="utf-8")
    assert "<svg" in svg and "crop 88: 568 → 392" in svg and "dec4_concat" in svg
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


def cli(*argv: str, cwd: Path, path: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "unet_explain", *argv], capture_output=True, text=True, cwd=cwd, env=env, check=False
    )


@needs_dot
def test_cli_default_writes_unet_png_and_says_where(tmp_path):
    result = cli("diagram", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "unet.png").read_bytes().startswith(b"\x89PNG")
    assert str(tmp_path / "unet.png") in result.stdout or "unet.png" in result.stdout


def test_without_graphviz_png_fails_cleanly_and_dot_text_work(tmp_path):
    no_dot = tmp_path / "bin"
    no_dot.mkdir()
    result = cli("diagram", "-o", "unet.png", cwd=tmp_path, path=str(no_dot))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "apt-get install graphviz" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin"]  # nothing half-written
    assert cli("diagram", "-f", "dot", "-o", "u.dot", cwd=tmp_path, path=str(no_dot)).returncode == 0
    assert (tmp_path / "u.dot").read_text().startswith("digraph unet {")
    text = cli("diagram", "-f", "text", cwd=tmp_path, path=str(no_dot))
    assert text.returncode == 0 and "crop 88: 568 → 392" in text.stdout and "bottleneck" in text.stdout


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
def test_cli_diagram_bad_input(tmp_path, argv, code, fragment):
    result = cli("diagram", *argv, cwd=tmp_path)
    assert result.returncode == code
    assert fragment in result.stderr and result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.keras
@needs_dot
def test_layers_draws_the_keras_graph(tmp_path):
    result = cli("diagram", "--layers", "-f", "dot", "-o", "layers.dot", "--input-size", "188", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    dot = (tmp_path / "layers.dot").read_text()
    assert "dec4_crop" in dot and "Cropping2D" in dot and "enc1_conv1" in dot

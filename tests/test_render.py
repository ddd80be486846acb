"""Rendered tables: a golden terminal table read by a person, and sums that must add up."""

from __future__ import annotations

import csv
import io
import json

from rich.console import Console

from unet_explain import UNetConfig, build_spec
from unet_explain.render.terminal import stage_table
from unet_explain.render.text_formats import to_csv, to_html, to_json, to_latex, to_markdown


def render(renderable, width: int = 140) -> str:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None, force_terminal=False, highlight=False).print(renderable)
    return out.getvalue()


def test_terminal_table_golden(paper_spec, golden):
    golden("table_paper.txt", render(stage_table(paper_spec)))


def test_terminal_table_golden_non_square_same(golden):
    spec = build_spec(UNetConfig(input_size=(192, 256), depth=3, padding="same", in_channels=3, num_classes=5))
    golden("table_192x256_same.txt", render(stage_table(spec)))


def test_markdown_params_column_sums_to_total(paper_spec):
    lines = [line for line in to_markdown(paper_spec).splitlines() if line.startswith("| ")][1:]
    params = [line.split(" | ")[7].strip("* ") for line in lines]
    *stage_params, total = (int(p.replace(",", "")) for p in params)
    assert sum(stage_params) == total == paper_spec.totals.params


def test_csv_sums_and_crops(paper_spec):
    rows = list(csv.DictReader(io.StringIO(to_csv(paper_spec))))
    *stages, total = rows
    assert sum(int(r["params"]) for r in stages) == int(total["params"]) == 31_030_658
    assert sum(int(r["macs"]) for r in stages) == int(total["macs"])
    assert {r["name"]: r["crop_rows"] for r in stages if r["crop_rows"]} == {
        "dec4": "4", "dec3": "16", "dec2": "40", "dec1": "88",
    }  # fmt: skip


def test_json_contract(paper_spec):
    data = json.loads(to_json(paper_spec))
    assert set(data) >= {"config", "stages", "totals"}
    assert data["config"] == {
        "input_size": [572, 572],
        "in_channels": 1,
        "num_classes": 2,
        "depth": 4,
        "base_filters": 64,
        "padding": "valid",
    }
    assert data["totals"]["params"] == 31_030_658
    assert data["totals"]["output_size"] == [388, 388]
    assert set(data["totals"]) >= {"params", "macs", "activation_bytes", "output_size"}
    paths = {"contracting", "bottleneck", "expansive", "output"}
    for stage in data["stages"]:
        assert set(stage) >= {"name", "path", "level", "in_size", "out_size", "channels", "params"}
        assert stage["path"] in paths
        for key in ("in_size", "out_size"):
            assert len(stage[key]) == 2 and all(type(v) is int for v in stage[key])
        if stage["path"] == "expansive":
            assert set(stage) >= {"up_size", "skip_from", "skip_size", "crop", "concat_channels"}
            assert stage["skip_from"] == "enc" + stage["name"][3:]
            skip, up, crop = stage["skip_size"], stage["up_size"], stage["crop"]
            assert [(s - u) // 2 for s, u in zip(skip, up, strict=True)] == crop
    assert [s["name"] for s in data["stages"]][:5] == ["enc1", "enc2", "enc3", "enc4", "bottleneck"]


def test_latex_and_html_carry_the_numbers(paper_spec):
    latex = to_latex(paper_spec)
    assert r"\begin{tabular}" in latex and "31,030,658" in latex and r"$\rightarrow$" in latex
    html = paper_spec._repr_html_()
    assert html == to_html(paper_spec)
    assert "<table>" in html and "568x568 → 392x392 (crop 88)" in html

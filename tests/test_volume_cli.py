"""Every command with a volume (``--preset 3d-unet`` or a three-number size): output, and one-line refusals."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from cli_run import run

P = ("--preset", "3d-unet")




def refused(capsys, *argv: str) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err, (code, out, err)
    return err


@pytest.mark.parametrize("fmt", ["rich", "markdown", "csv", "json", "latex", "html"])
def test_table_of_the_3d_unet_in_every_format(capsys, fmt):
    code, out, err = run(capsys, "table", *P, "-f", fmt)
    assert code == 0 and err == ""
    if fmt == "json":
        data = json.loads(out)
        assert data["totals"]["output_size"] == [44, 44, 28] and data["totals"]["params"] == 19_080_195
        assert [s["crop"] for s in data["stages"] if "crop" in s] == [[4, 4, 4], [16, 16, 16], [40, 40, 40]]
    elif fmt == "csv":
        assert "dec1,expansive,1,24,24,16," in out and ",40,40,40," in out
    else:
        assert "44x44x28" in out and "(crop 40)" in out and "(crop 16)" in out and "(crop 4)" in out


def test_other_flags_override_the_preset(capsys):
    code, out, _ = run(capsys, "table", *P, "--depth", "2", "--input-size", "92x92x60", "--norm", "none", "-f", "json")
    config = json.loads(out)["config"]
    assert code == 0 and config["depth"] == 2 and config["input_size"] == [92, 92, 60] and "norm" not in config
    assert config["channel_schedule"] == "double_before_pool" and config["base_filters"] == 32
    code, out, _ = run(capsys, "table", "--preset", "unet", "-f", "json")
    assert json.loads(out)["config"]["input_size"] == [572, 572]


def test_a_volume_size_alone_gives_a_3d_network_with_the_2d_settings(capsys):
    code, out, _ = run(capsys, "table", "--input-size", "188x188x188", "-f", "json")
    assert code == 0 and json.loads(out)["totals"]["output_size"] == [4, 4, 4]


def test_sizes_names_the_nearest_valid_sizes_per_axis(capsys):
    code, out, _ = run(capsys, "sizes", *P, "--input-size", "572x572x92", "--min", "88", "--max", "100", "-f", "json")
    data = json.loads(out)
    assert code == 0 and [r["input"] for r in data["sizes"]] == [92, 100]
    assert data["axes"][2] == {"axis": "slices", "side": 92, "valid": True, "nearest": [None, 100], "output": 4}
    code, out, _ = run(capsys, "sizes", *P, "--input-size", "132x132x116", "--max", "200")
    assert code == 0 and "axis by axis" in out and "slices" in out


def test_an_anisotropic_volume_is_refused_naming_the_axis(capsys):
    err = refused(capsys, "sizes", *P, "--input-size", "572x572x60")
    assert "along the slices" in err and "receives 2 voxels" in err and "the smallest valid slice size is 92" in err


def test_diagram_of_a_volume(capsys, tmp_path):
    code, out, _ = run(capsys, "diagram", *P, "-f", "text")
    assert code == 0 and "132x132x116 → 130x130x114" in out and "conv 3x3x3, BN, ReLU" in out
    code, out, _ = run(capsys, "diagram", *P, "-o", str(tmp_path / "u.dot"))
    text = (tmp_path / "u.dot").read_text()
    assert code == 0 and "3D U-Net (Cicek et al. 2016)" in text and "256+512" in text


def test_receptive_field_of_a_volume(capsys):
    code, out, _ = run(capsys, "receptive-field", *P, "-f", "json")
    output = json.loads(out)["output"]
    assert code == 0 and output["slices"]["min"] == 92 and output["slices"]["max"] == 100


def test_tile_a_volume(capsys):
    code, out, _ = run(capsys, "tile", *P, "--image", "512x512x200", "-f", "json")
    plan = json.loads(out)
    assert code == 0 and plan["grid"] == [12, 12, 8] and plan["pad"]["front"] == 44 and plan["pad"]["back"] == 68
    code, out, _ = run(capsys, "tile", *P, "--image", "512x512x200")
    assert "12 rows x 12 columns x 8 slices = 1,152 tiles" in out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (("table", "--input-size", "132x132x116x3"), "has 4 numbers"),
        (("tile", *P, "--image", "512x512"), "has 2 sides, but the network takes a volume"),
        (("tile", *P, "--image", "512x512x200", "-o", "t.png"), "draws a 2D tiling picture"),
        (("figure", "pooling", *P), "figure pooling draws 2D maps"),
        (("verify", *P, "--input-size", "516x516x516"), "float32 activations per tile, above the memory budget"),
        (("summary", *P, "--input-size", "516x516x516"), "--max-memory"),
        (("table", *P, "--norm", "layer"), "invalid choice: 'layer'"),
        (("compare", *P), "the variants compared are 2D U-Nets"),
        (("audit", "model.keras", "--input-size", "132x132x116"), "the audit reads 2D U-Nets"),
    ],
)
def test_bad_volume_input_is_one_line_exit_2(capsys, argv, fragment):
    assert fragment in refused(capsys, *argv)


def test_a_figure_that_holds_for_a_volume(capsys, tmp_path):
    code, _, _ = run(capsys, "figure", "costs", *P, "-o", str(tmp_path / "costs.svg"))
    assert code == 0 and (tmp_path / "costs.svg").stat().st_size > 0


def test_the_volume_table_stays_on_the_fast_path():
    probe = (
        "import sys\nfrom unet_explain.cli import main\nmain(['table', '--preset', '3d-unet', '-f', 'json'])\n"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules), file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stderr.strip().splitlines()[-1] == "[]"


@pytest.mark.keras
def test_verify_and_summary_of_the_3d_unet(capsys):
    code, out, _ = run(capsys, "verify", *P)
    assert code == 0 and "19,080,195" in out and "agree" in out and "enc1_conv1_bn" in out
    code, out, _ = run(capsys, "summary", *P)
    assert code == 0 and "Conv3DTranspose" in out and "19,080,195" in out and "4,672" in out

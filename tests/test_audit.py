"""Audit of Keras U-Nets against the paper, the built-in variants, and compare (builds Keras models)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unet_explain import UNetConfig
from unet_explain.cli import main
from unet_explain.model.audit import audit_model, load_model, summarise
from unet_explain.model.variants import VARIANTS, build_variant

pytestmark = pytest.mark.keras

FIXTURES = Path(__file__).parent / "fixtures" / "tutorial_unets.py"
SMALL = UNetConfig(input_size=188, base_filters=4)


def aspects(report) -> set[str]:
    return {d.aspect.split(" (")[0] for d in report.deviations}


def test_the_paper_network_has_no_deviation():
    model, _, _ = build_variant("paper", UNetConfig())
    report = audit_model(model)
    assert report.deviations == []
    assert [s.match for s in report.skips] == ["crop 4", "crop 16", "crop 40", "crop 88"]
    assert {s.taken for s in report.skips} == {"before pooling"}
    assert report.level_channels == [64, 128, 256, 512, 1024]
    assert report.head == "softmax" and report.params == 31_030_658


def test_a_smaller_paper_network_differs_only_in_width():
    model, _, _ = build_variant("paper", SMALL)
    assert aspects(audit_model(model)) == {"channels per level", "parameters"}
    assert audit_model(model, reference=SMALL).deviations == []


def test_caffe_release_variant():
    model, _, _ = build_variant("caffe-release", SMALL)
    report = audit_model(model, reference=SMALL)
    assert aspects(report) == {"after up-sampling", "concatenation order", "initialisation"}
    assert report.dropout == ["enc4_dropout", "bottleneck_dropout"]
    assert "uniform" in report.initialiser and "fan_in" in report.initialiser
    assert report.params == audit_model(build_variant("paper", SMALL)[0]).params  # none of it adds weights


def test_tutorial_resize_variant():
    report = audit_model(build_variant("tutorial-resize", SMALL)[0], reference=SMALL)
    assert aspects(report) == {"skip connection source", "skip size matching"}
    assert {s.taken for s in report.skips} == {"after pooling"}
    assert {s.match for s in report.skips} == {"resize"}


def test_same_padding_variant_is_built_at_a_valid_size():
    model, used, note = build_variant("same-padding", UNetConfig(input_size=572, base_filters=4))
    assert used.input_size == (576, 576) and "multiple of 16" in note
    report = audit_model(model, reference=UNetConfig(base_filters=4))
    assert report.output_size == (576, 576)
    assert report.paddings == ["same"] and report.normalisation == {"BatchNormalization": 18}
    assert {"conv padding", "normalisation", "output size", "parameters"} <= aspects(report)


def test_independent_tutorial_unet_same_padding():
    report = audit_model(load_model(f"{FIXTURES}:same_padding_upsampling"))
    found = aspects(report)
    assert {"conv padding", "up-sampling", "head", "initialisation", "channels per level"} <= found
    assert report.paddings == ["same"]
    assert {s.taken for s in report.skips} == {"before pooling"}  # through the Dropout layers
    assert {s.match for s in report.skips} == {"none"}
    assert {s.upsampling for s in report.skips} == {"nearest up-sampling x2, then conv 2x2"}
    assert report.head == "sigmoid"
    assert report.initialiser.startswith("He normal")
    assert len(report.dropout) == 2
    assert report.output_size == (256, 256)


def test_independent_tutorial_unet_resized_skips():
    report = audit_model(load_model(f"{FIXTURES}:resized_skips"))
    found = aspects(report)
    assert {"skip connection source", "skip size matching", "normalisation", "head", "input channels"} <= found
    assert {s.taken for s in report.skips} == {"after pooling"}
    assert {s.match for s in report.skips} == {"resize"}
    assert report.head == "logits" and report.in_channels == 3
    assert report.normalisation == {"BatchNormalization": 18}


def test_saved_model_file_round_trip(tmp_path):
    model, _, _ = build_variant("paper", SMALL)
    path = tmp_path / "paper.keras"
    model.save(path)
    report = audit_model(load_model(str(path)), reference=SMALL)
    assert report.deviations == [] and report.params == model.count_params()


@pytest.mark.parametrize(
    ("target", "fragment"),
    [
        (f"{FIXTURES}:no_skips", "not a recognisable U-Net: it has no skip connections"),
        (f"{FIXTURES}:raises", "the factory raised RuntimeError: out of coffee"),
        (f"{FIXTURES}:not_a_model", "returned a list, not a Keras model"),
        (f"{FIXTURES}:missing", "has no function 'missing'"),
        ("nowhere.py:f", "no such file 'nowhere.py'"),
        ("no_such_module_xyz:f", "importing 'no_such_module_xyz' failed"),
        ("model.keras", "no such file"),
        ("just-a-name", "give a saved model"),
    ],
)
def test_bad_models_get_one_clear_line(capsys, target, fragment):
    assert main(["audit", target]) == 2
    out, err = capsys.readouterr()
    assert out == "" and fragment in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_file_that_is_not_a_model(tmp_path, capsys):
    bogus = tmp_path / "bogus.keras"
    bogus.write_text("not a zip")
    assert main(["audit", str(bogus)]) == 2
    assert "is not a Keras model file" in capsys.readouterr().err


def test_audit_cli_json(capsys):
    assert main(["audit", f"{FIXTURES}:resized_skips", "-f", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["head"] == "logits" and len(data["skips"]) == 4 and data["deviations"]


def test_compare_cli_from_built_models(capsys):
    assert main(["compare", "--input-size", "188", "--base-filters", "4", "-f", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == list(VARIANTS)
    assert data["paper"]["deviations"] == []
    assert data["same-padding"]["output_size"] == [192, 192] and "multiple of 16" in data["same-padding"]["note"]
    assert data["caffe-release"]["params"] == data["paper"]["params"]
    assert main(["compare", "tutorial-resize", "--input-size", "188", "--base-filters", "4"]) == 0
    out = capsys.readouterr().out
    assert "after pooling" in out and "paper" in out


def test_compare_unknown_variant(capsys):
    assert main(["compare", "resnet"]) == 2
    assert "unknown variant 'resnet'; known variants: paper, caffe-release" in capsys.readouterr().err


def test_summary_rows_come_from_the_report():
    report = audit_model(build_variant("caffe-release", SMALL)[0], reference=SMALL)
    rows = summarise(report)
    assert rows["after up-sampling"] == "relu" and rows["concatenation"] == "up-sampled first"
    assert rows["deviations from the paper"] == str(len(report.deviations))


def test_the_docs_example_is_audited_as_the_docs_say():
    root = Path(__file__).resolve().parent.parent
    report = audit_model(load_model(f"{root}/docs/examples/tutorial_unet.py:build"))
    found = aspects(report)
    assert {"conv padding", "up-sampling", "concatenation order", "normalisation", "head", "input channels"} <= found
    assert {s.upsampling for s in report.skips} == {"bilinear up-sampling x2"}
    assert report.head == "logits" and report.initialiser.startswith("Glorot")

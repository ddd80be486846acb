"""Audit of Keras U-Nets against the paper, the built-in variants, and compare (builds Keras models)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from unet_explain import UNetConfig
from unet_explain.cli import main
from unet_explain.model.audit import ASPECTS, AuditError, audit_model, load_model, row_kinds, summarise
from unet_explain.model.audit.compare import ROW_ASPECTS
from unet_explain.model.keras_unet import weights_left_unset
from unet_explain.model.variants import VARIANTS, build_variant

pytestmark = pytest.mark.keras

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "tutorial_unets.py"
IDIOMS = Path(__file__).parent / "fixtures" / "audit_idioms.py"
SMALL = UNetConfig(input_size=188, base_filters=4)
CONTRACT_ASPECTS = {
    "padding",
    "downsampling",
    "skip_source",
    "skip_match",
    "upsampling",
    "upsampling_activation",
    "up_channels",
    "channels",
    "depth",
    "conv_activation",
    "normalisation",
    "dropout",
    "extra_layers",
    "head",
    "init",
    "conv_bias",
}


def aspects(report) -> set[str]:
    return {d.aspect for d in report.deviations}


def test_the_aspect_table_is_the_documented_contract():
    assert set(ASPECTS) == CONTRACT_ASPECTS


def test_the_paper_network_has_no_deviation():
    # The audit reads the graph, the settings (the initialiser's too) and the weights' shapes, never a weight's
    # value: the 31 million weights are left undrawn (the same report; test_keras_model checks the seam).
    with weights_left_unset():
        model, _, _ = build_variant("paper", UNetConfig())
        report = audit_model(model)
    assert report.deviations == []
    assert [s.match for s in report.skips] == ["crop 4", "crop 16", "crop 40", "crop 88"]
    assert {s.taken for s in report.skips} == {"before down-sampling"}
    assert report.level_channels == [64, 128, 256, 512, 1024]
    assert report.head == "softmax" and report.params == 31_030_658
    assert report.initialiser == "Gaussian, std sqrt(2/fan_in) per layer"


def test_a_smaller_paper_network_differs_only_in_width():
    model, _, _ = build_variant("paper", SMALL)
    report = audit_model(model)
    assert aspects(report) == {"channels"}
    # The whole parameter difference is the width: 121,658 vs the paper's 31,030,658.
    assert report.param_sources == {"channels": 121_658 - 31_030_658}
    assert audit_model(model, reference=SMALL).deviations == []


def test_caffe_release_variant():
    model, _, _ = build_variant("caffe-release", SMALL)
    report = audit_model(model, reference=SMALL)
    # The concatenation order only permutes channels: a note, not a deviation.
    assert aspects(report) == {"upsampling_activation", "init", "up_channels"}
    assert [n.aspect for n in report.notes] == ["concat_order"]
    assert report.dropout == ["enc4_dropout (Dropout 0.5, enc4)", "bottleneck_dropout (Dropout 0.5, bottleneck)"]
    assert "uniform" in report.initialiser and "fan_in" in report.initialiser
    # Only the last up-convolution keeps its channels (8 -> 8 at base 4), so dec1 concatenates 8 + 4.
    assert [s.up_channels for s in report.skips if s.up_channels[0] == s.up_channels[1]] == [(8, 8)]
    # Width 4: the up-conv gains 2*2*8*4 + 4 weights and biases, dec1's first conv 3*3*4*4 weights. The up-conv is
    # the paper's kind (2x2, stride 2), so both come from keeping the channels: up_channels, the one deviation.
    assert report.param_sources == {"up_channels": 2 * 2 * 8 * 4 + 4 + 3 * 3 * 4 * 4}


def _conv(k: int, c_in: int, c_out: int) -> int:
    return k * k * c_in * c_out + c_out


def test_caffe_release_has_the_release_parameter_count():
    """phseg_v5-train.prototxt: upconv_u1d-u0a is 128 -> 128 (2x2), conv_u0b-c 192 -> 64; all else is Figure 1."""
    with weights_left_unset():  # counts and kernel shapes only: the 31 million weights are not drawn
        model, used, _ = build_variant("caffe-release", UNetConfig())
    figure_1 = (
        _conv(3, 1, 64) + _conv(3, 64, 64)
        + _conv(3, 64, 128) + _conv(3, 128, 128)
        + _conv(3, 128, 256) + _conv(3, 256, 256)
        + _conv(3, 256, 512) + _conv(3, 512, 512)
        + _conv(3, 512, 1024) + _conv(3, 1024, 1024)
        + _conv(2, 1024, 512) + _conv(3, 1024, 512) + _conv(3, 512, 512)
        + _conv(2, 512, 256) + _conv(3, 512, 256) + _conv(3, 256, 256)
        + _conv(2, 256, 128) + _conv(3, 256, 128) + _conv(3, 128, 128)
        + _conv(2, 128, 64) + _conv(3, 128, 64) + _conv(3, 64, 64)
        + _conv(1, 64, 2)
    )  # fmt: skip
    assert figure_1 == 31_030_658  # the paper's count, so the hand sum above is Figure 1
    release = figure_1 - _conv(2, 128, 64) - _conv(3, 128, 64) + _conv(2, 128, 128) + _conv(3, 192, 64)
    assert release == 31_100_354 and release - figure_1 == 69_696
    assert model.count_params() == release
    assert model.get_layer("dec1_upconv").kernel.shape == (2, 2, 128, 128)
    assert model.get_layer("dec1_conv1").kernel.shape == (3, 3, 192, 64)
    assert model.output_shape == (None, 388, 388, 2) and used.input_size == (572, 572)  # no size changes


def test_tutorial_resize_variant():
    report = audit_model(build_variant("tutorial-resize", SMALL)[0], reference=SMALL)
    assert aspects(report) == {"skip_source", "skip_match"}
    assert {s.taken for s in report.skips} == {"after down-sampling"}
    assert {s.match for s in report.skips} == {"resize"}
    assert report.depth == 4


def test_same_padding_variant_is_compared_like_with_like():
    model, used, note = build_variant("same-padding", UNetConfig(input_size=572, base_filters=4))
    assert used.input_size == (576, 576) and "multiple of 16" in note
    report = audit_model(model, reference=UNetConfig(base_filters=4))
    assert report.output_size == (576, 576)
    assert report.paddings == ["same"] and report.normalisation == {"BatchNormalization": 18}
    assert aspects(report) == {"padding", "normalisation"}
    padding = next(d for d in report.deviations if d.aspect == "padding")
    # What the paper network would need: the valid tile nearest to 576 (572, 4 away; 588 is 12 away: 572 -> 388
    # out), and the smallest tile covering 576 pixels: valid depth-4 outputs are 16k + 4 pixels, the first >= 576
    # is 580, from 580 + 2 * 92 = 764.
    assert "the valid tile nearest to 576x576 (the valid sides either side of 576 are 572 and 588)" in (
        report.paper_note
    )
    assert "from a tile of 572x572 it predicts 388x388 pixels" in padding.meaning
    assert "a margin of 92 pixels on each side" in padding.meaning
    assert "the smallest tile whose output covers all 576x576 pixels in one pass is 764x764 (output 580x580)" in (
        padding.meaning
    )
    # 4 parameters per channel for each of the 18 batch normalisations, and nothing else.
    assert report.param_sources == {"normalisation": 4 * sum(c.filters for c in _convs(model))}


def _convs(model):
    return [layer for layer in model.layers if type(layer).__name__ == "Conv2D" and layer.kernel_size == (3, 3)]


def test_independent_tutorial_unet_same_padding():
    report = audit_model(load_model(f"{FIXTURES}:same_padding_upsampling"))
    assert aspects(report) == {"padding", "upsampling", "upsampling_activation", "channels", "extra_layers", "head"}
    assert report.paddings == ["same"]
    assert {s.taken for s in report.skips} == {"before down-sampling"}  # through the Dropout layers
    assert {s.match for s in report.skips} == {"none"}
    assert {s.upsampling for s in report.skips} == {"nearest up-sampling x2, then conv 2x2"}
    assert report.head == "sigmoid" and report.num_classes == 1
    head = next(d for d in report.deviations if d.aspect == "head")
    assert "equivalent to the paper's 2-class softmax" in head.meaning
    # He normal is the paper's rule, truncated: a note naming the rule, not a deviation quoting a std.
    assert report.initialiser.startswith("He normal: Gaussian, std sqrt(2/fan_in)")
    assert "init" in {n.aspect for n in report.notes}
    assert len(report.dropout) == 2 and report.output_size == (256, 256)
    extra = next(d for d in report.deviations if d.aspect == "extra_layers")
    assert "before the head: conv 3x3 (2 filters)" in extra.found
    assert report.param_sources["extra_layers"] == 3 * 3 * 16 * 2 + 2


def test_independent_tutorial_unet_resized_skips():
    report = audit_model(load_model(f"{FIXTURES}:resized_skips"))
    assert aspects(report) == {"skip_source", "skip_match", "channels", "normalisation", "head", "init"}
    assert {s.taken for s in report.skips} == {"after down-sampling"}
    assert {s.match for s in report.skips} == {"resize"}
    assert report.head == "logits" and report.in_channels == 3
    assert report.config["in_channels"] == 3  # a task setting, not a deviation
    assert report.normalisation == {"BatchNormalization": 18}


def test_the_docs_example_is_audited_as_the_docs_say():
    report = audit_model(load_model(f"{ROOT}/docs/examples/tutorial_unet.py:build"))
    assert aspects(report) == {
        "padding",
        "upsampling",
        "up_channels",
        "channels",
        "normalisation",
        "head",
        "init",
        "conv_bias",
    }
    assert {s.upsampling for s in report.skips} == {"bilinear up-sampling x2"}
    assert report.head == "logits" and report.initialiser.startswith("Glorot")
    # Every parameter is accounted for by an aspect: nothing is left unattributed.
    assert "unattributed" not in report.param_sources
    assert report.paper is not None
    assert report.params - report.paper.totals.params == sum(report.param_sources.values())


# --- the idioms people write ----------------------------------------------------------------

IDIOM_ASPECTS = {
    "paper_like": set(),
    "list_io": set(),
    "dict_io": set(),
    "nested_encoder": set(),
    "sequential_blocks": set(),
    "custom_blocks": set(),
    "subclassed_built": set(),
    "strided_encoder": {"downsampling"},
    "upsampling_only": {"upsampling", "up_channels"},
    "upsampling_conv_halving": {"upsampling"},
    "upsampling_conv_keeping": {"upsampling", "up_channels"},
    "extra_pre_head_conv": {"extra_layers"},
    "elu_everywhere": {"conv_activation"},
    "spatial_dropout_everywhere": {"dropout"},
}


@pytest.mark.parametrize(("factory", "expected"), IDIOM_ASPECTS.items(), ids=list(IDIOM_ASPECTS))
def test_each_idiom_has_exactly_its_aspects(factory, expected):
    report = audit_model(load_model(f"{IDIOMS}:{factory}"), reference=SMALL)
    assert aspects(report) == expected
    assert len(report.skips) == 4 and report.depth == 4
    assert report.input_size == (188, 188)
    assert report.params - report.paper.totals.params == sum(report.param_sources.values())
    assert "unattributed" not in report.param_sources


def test_the_recognised_parts_of_the_idioms():
    strided = audit_model(load_model(f"{IDIOMS}:strided_encoder"), reference=SMALL)
    down = next(d for d in strided.deviations if d.aspect == "downsampling")
    assert down.found == "strided conv 2x2, stride 2 (all 4 levels)"
    # Four 2x2 strided convs (4->4, 8->8, 16->16, 32->32 channels) replace weightless poolings.
    assert strided.param_sources == {"downsampling": sum(4 * c * c + c for c in (4, 8, 16, 32))}
    kept = audit_model(load_model(f"{IDIOMS}:upsampling_only"), reference=SMALL)
    assert [s.up_channels for s in kept.skips] == [(64, 64), (32, 32), (16, 16), (8, 8)]
    elu = audit_model(load_model(f"{IDIOMS}:elu_everywhere"), reference=SMALL)
    assert elu.deviations[0].found == "elu after every conv"
    dropout = audit_model(load_model(f"{IDIOMS}:spatial_dropout_everywhere"), reference=SMALL)
    assert dropout.deviations[0].found == "18 SpatialDropout2D, rate 0.1 in every stage"


def test_attention_gates_are_recognised_as_gated_skips():
    report = audit_model(load_model(f"{IDIOMS}:attention_gates"), reference=SMALL)
    assert aspects(report) == {"padding", "skip_source", "extra_layers"}
    assert {s.taken for s in report.skips} == {"gated (multiplied by an attention map)"}
    # The gates' 1x1 convs are extra layers, not the levels' own convs: no activation or width deviation.
    gates = [d for d in report.deviations if d.aspect == "extra_layers" and "12 conv 1x1" in d.found]
    assert len(gates) == 1 and "unattributed" not in report.param_sources


def test_a_subclassed_model_never_built_is_traced_at_a_stated_size():
    report = audit_model(load_model(f"{IDIOMS}:subclassed_unbuilt"), reference=SMALL)
    assert aspects(report) == set()
    assert report.input_size == (572, 572) and "paper's 572x572" in report.size_note
    given = audit_model(load_model(f"{IDIOMS}:subclassed_unbuilt"), input_size=(188, 188), reference=SMALL)
    assert given.input_size == (188, 188) and given.output_size == (4, 4) and "--input-size" in given.size_note


def test_layers_made_in_build_and_keras_ops_are_traced():
    # Its layers exist only after build(), and it pools with keras.ops.max_pool: both must be seen.
    report = audit_model(load_model(f"{IDIOMS}:layers_made_in_build"), input_size=(188, 188), reference=SMALL)
    assert aspects(report) == set() and len(report.skips) == 4 and report.depth == 4


def test_an_open_input_size_is_never_a_0x0_tile():
    report = audit_model(load_model(f"{IDIOMS}:same_padding_open_size"), reference=SMALL)
    # Same padding with 4 poolings cannot take 572 (not a multiple of 16): the nearest size that fits.
    assert report.input_size == (576, 576) and report.output_size == (576, 576)
    assert "does not accept the paper's 572; traced at 576x576" in report.size_note
    assert aspects(report) == {"padding"}


def test_a_factory_importing_its_sibling_module():
    report = audit_model(load_model(f"{Path(__file__).parent}/fixtures/sibling/factory.py:build"), reference=SMALL)
    assert aspects(report) == set()


def test_not_a_unet_is_refused_with_the_true_reason(capsys):
    assert main(["audit", f"{IDIOMS}:residual_no_concat"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "no concatenation joins an up-sampled decoder map with a map copied from the encoder" in err
    # True counts only; additions are not called residual connections here (an FCN's or a gate's are not).
    assert "3 down-samplings, 3 up-samplings, 2 element-wise additions, no concatenation" in err


# --- loading: safe mode, speed, prints, errors ------------------------------------------------


def test_a_printing_factory_keeps_json_valid(capsys):
    assert main(["audit", f"{IDIOMS}:printing", "-f", "json"]) == 0
    out, err = capsys.readouterr()
    json.loads(out)
    assert "building the model..." in err and "building" not in out


def test_audit_cli_json_follows_the_contract(capsys):
    assert main(["audit", f"{FIXTURES}:resized_skips", "-f", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["deviations"] and all(set(d) == {"aspect", "found", "paper", "meaning"} for d in data["deviations"])
    assert {d["aspect"] for d in data["deviations"]} <= CONTRACT_ASPECTS
    assert all(set(n) == {"aspect", "text"} for n in data["notes"])
    config = data["config"]
    assert config["in_channels"] == 3 and config["num_classes"] == 2 and config["input_size"] == [188, 188]
    assert config["params"] - config["paper_params"] == sum(config["params_by_aspect"].values())
    assert data["head"] == "logits" and len(data["skips"]) == 4


def test_rich_output_groups_deviations_notes_then_config(capsys):
    assert main(["audit", f"{ROOT}/docs/examples/tutorial_unet.py:build"]) == 0
    out = capsys.readouterr().out
    first, notes, config = out.index("deviations from the paper"), out.index("Notes:"), out.index("Task settings")
    assert first < notes < config


def test_a_lambda_layer_file_is_refused_in_safe_mode(tmp_path, capsys):
    import keras

    marker = tmp_path / "ran.txt"
    inputs = keras.Input((8, 8, 1))
    code = eval(f"lambda x: (__import__('pathlib').Path({str(marker)!r}).write_text('ran'), x)[1]")
    outputs = keras.layers.Lambda(code)(inputs)
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, outputs).save(path)
    marker.unlink(missing_ok=True)
    assert main(["audit", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--unsafe" in err and "Lambda" in err and "running the code stored" in err
    assert not marker.exists()
    # The flag does what it says: the stored code runs (and this file is no U-Net).
    with pytest.raises(AuditError, match="not a U-Net"):
        audit_model(load_model(str(path), unsafe=True))
    assert marker.exists()


def test_saved_model_file_round_trip(tmp_path):
    model, _, _ = build_variant("paper", SMALL)
    path = tmp_path / "paper.keras"
    model.save(path)
    report = audit_model(load_model(str(path)), reference=SMALL)
    assert report.deviations == [] and report.params == model.count_params()


@pytest.mark.parametrize(
    ("target", "fragment", "code"),
    [
        (f"{FIXTURES}:no_skips", "is not a U-Net: no concatenation joins", 2),
        # The user's own code failing is a runtime failure (1), not a usage mistake.
        (f"{FIXTURES}:raises", "the factory raised RuntimeError: out of coffee", 1),
        (f"{FIXTURES}:not_a_model", "returned a list, not a Keras model", 2),
        (f"{FIXTURES}:missing", "has no function 'missing'", 2),
        ("nowhere.py:f", "no such file 'nowhere.py'", 2),
        ("no_such_module_xyz:f", "no module 'no_such_module_xyz' on the import path", 2),
        ("model.keras", "no such file", 2),
        ("just-a-name", "give a saved model", 2),
        (f"{FIXTURES}:not-a-name", "is not a Python function name", 2),
    ],
)
def test_bad_models_get_one_clear_line(capsys, target, fragment, code):
    assert main(["audit", target]) == code
    out, err = capsys.readouterr()
    assert out == "" and fragment in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_file_that_is_not_a_model(tmp_path, capsys):
    bogus = tmp_path / "bogus.keras"
    bogus.write_text("not a zip")
    assert main(["audit", str(bogus)]) == 2
    assert "is not a Keras model file" in capsys.readouterr().err
    broken = tmp_path / "broken.keras"
    import zipfile

    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("config.json", "{}")
    # A real archive Keras fails to read: a runtime failure, one line.
    assert main(["audit", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "Keras could not load it" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "spec",
    ["missing.keras", "nowhere/model.py:build", "README.md:build", "tests/fixtures/audit_idioms.py:nope", "a.py:"],
)
def test_bad_specs_are_answered_before_tensorflow_is_imported(tmp_path, spec):
    bad = tmp_path / "bad.py"
    bad.write_text("def build(:\n")
    code = (
        "import sys\nfrom unet_explain.cli import main\n"
        f"status = main(['audit', {spec!r}])\nassert main(['audit', {str(bad) + ':build'!r}]) == 2\n"
        "print(status, 'tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert run.stdout.split() == ["2", "False", "False"], run.stderr
    assert "Traceback" not in run.stderr and run.stderr.count("\n") == 2


def test_compare_cli_from_built_models(capsys):
    assert main(["compare", "--input-size", "188", "--base-filters", "4", "-f", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == list(VARIANTS)
    assert data["paper"]["deviations"] == []
    assert data["same-padding"]["output_size"] == [192, 192] and "multiple of 16" in data["same-padding"]["note"]
    assert data["caffe-release"]["params"] - data["paper"]["params"] == 2 * 2 * 8 * 4 + 4 + 3 * 3 * 4 * 4
    # One spelling per context: the user-facing key hyphenated, the Keras model's name underscored.
    assert {key: entry["name"] for key, entry in data.items()} == {
        "paper": "paper",
        "caffe-release": "caffe_release",
        "tutorial-resize": "tutorial_resize",
        "same-padding": "same_padding",
    }
    assert main(["compare", "tutorial-resize", "--input-size", "188", "--base-filters", "4"]) == 0
    out = capsys.readouterr().out
    assert "after down-sampling" in out and "paper" in out


def test_compare_unknown_variant(capsys):
    assert main(["compare", "resnet"]) == 2
    assert "unknown variant 'resnet'; known variants: paper, caffe-release" in capsys.readouterr().err


def test_summary_rows_come_from_the_report():
    report = audit_model(build_variant("caffe-release", SMALL)[0], reference=SMALL)
    rows = summarise(report)
    assert rows["after up-sampling"] == "relu" and rows["concatenation"] == "up-sampled first"
    assert rows["deviations from the paper"] == str(len(report.deviations))


def test_compare_marks_only_deviations_bold_and_notes_italic(capsys):
    reports = {name: audit_model(build_variant(name, SMALL)[0], reference=SMALL) for name in ("paper", "caffe-release")}
    paper_rows = summarise(reports["paper"])
    assert list(paper_rows) == list(ROW_ASPECTS)  # every row says which aspects it shows
    assert paper_rows["dropout"] == "none (the paper: at the end of the contracting path, while training)"
    caffe = summarise(reports["caffe-release"])
    assert caffe["dropout"] == "Dropout 0.5 in enc4, bottleneck (where the paper puts it)"
    kinds = {row: kind for row, kind in row_kinds(reports["caffe-release"], paper_rows).items() if kind}
    # Its deviations are the bold rows (the kept channels show in the up-sampling row and add parameters);
    # the concatenation order and the paper's own dropout are notes.
    assert caffe["up-sampling"].endswith(" / transposed conv 2x2, stride 2, keeping 8 channels")
    assert kinds == {
        "up-sampling": "deviation",
        "parameters": "deviation",
        "after up-sampling": "deviation",
        "initialisation": "deviation",
        "concatenation": "note",
        "dropout": "note",
    }
    # One bold row per deviation, plus the parameter count that one of them changes.
    bold = [row for row, kind in kinds.items() if kind == "deviation" and row != "parameters"]
    assert len(bold) == len(reports["caffe-release"].deviations)
    assert set(row_kinds(reports["paper"], paper_rows).values()) == {""}
    assert main(["compare", "caffe-release", "--input-size", "188", "--base-filters", "4"]) == 0
    assert "Bold: a deviation from the paper" in " ".join(capsys.readouterr().out.split())


def test_the_parameter_account_is_a_sum_that_holds():
    model, _, _ = build_variant("same-padding", UNetConfig(input_size=572, base_filters=4))
    report = audit_model(model)  # against the paper's 64 filters: the width and the normalisation
    text = report.params_account()
    total, _, terms = text.partition(" = ")
    assert terms.startswith("31,030,658 (the paper network) ") and "(normalisation)" in text
    value, sign = 0, 1
    for word in terms.split():
        if word in "+-":
            sign = 1 if word == "+" else -1
        elif word[0].isdigit():
            value += sign * int(word.replace(",", ""))
    assert value == int(total.replace(",", "")) == report.params
    assert report.config["params_by_aspect"] == report.param_sources  # the JSON keeps the plain mapping

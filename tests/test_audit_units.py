"""The audit's modules on their own, without Keras: the spec check, the aspect table, the report's JSON form."""

from __future__ import annotations

import os
import string
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unet_explain import UNetConfig
from unet_explain.core import arithmetic as ar
from unet_explain.model.audit import ASPECTS, AuditError, AuditReport, Deviation, Note, parse_target, title
from unet_explain.model.audit.aspects import NOTE_TEXT, meaning
from unet_explain.model.audit.compare import dropout_summary, nearest_paper_side
from unet_explain.model.audit.deviations import covering_side
from unet_explain.model.audit.parts import pair


def test_parse_target_accepts_what_exists(tmp_path):
    factory = tmp_path / "net.py"
    factory.write_text("import keras\n\ndef build():\n    return None\n")
    target = parse_target(f"{factory}:build")
    assert target.file == factory and target.function == "build" and not target.saved
    saved = tmp_path / "m.keras"
    with zipfile.ZipFile(saved, "w") as archive:
        archive.writestr("config.json", "{}")
    assert parse_target(str(saved)).saved
    assert parse_target("json:dumps").module == "json"


def test_parse_target_cannot_tell_a_star_import_so_lets_the_import_decide(tmp_path):
    factory = tmp_path / "star.py"
    factory.write_text("from os.path import *\n")
    assert parse_target(f"{factory}:join").function == "join"


@pytest.mark.parametrize(
    ("body", "spec_tail", "fragment"),
    [
        ("def build(:\n", ":build", r"is not valid Python \(line 1"),
        ("def other():\n    pass\n", ":build", "has no function 'build'"),
        ("x = 1\n", ":2build", "is not a Python function name"),
    ],
)
def test_parse_target_refuses_in_one_line(tmp_path, body, spec_tail, fragment):
    factory = tmp_path / "net.py"
    factory.write_text(body)
    with pytest.raises(AuditError, match=fragment) as info:
        parse_target(f"{factory}{spec_tail}")
    assert "\n" not in str(info.value) and info.value.exit_code == 2


def test_parse_target_refuses_files_and_modules_that_are_not_there(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    for spec, fragment in [
        (f"{tmp_path}/missing.keras", "no such file"),
        (f"{notes}:build", "neither a .py file nor a module name"),
        ("no_such_module_here:build", "no module 'no_such_module_here'"),
        (str(tmp_path) + ".keras", "no such file"),
        ("", "empty"),
    ]:
        with pytest.raises(AuditError, match=fragment):
            parse_target(spec)
    fake = tmp_path / "fake.h5"
    fake.write_bytes(b"not hdf5")
    with pytest.raises(AuditError, match="not a Keras model file"):
        parse_target(str(fake))


def test_parse_target_names_a_device_or_pipe_for_what_it_is(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for spec in ("/dev/zero", "/dev/null", str(fifo)):
        with pytest.raises(AuditError, match="is not a regular file") as info:
            parse_target(spec)
        assert info.value.exit_code == 2 and "no such file" not in str(info.value)


def test_every_meaning_formats_and_every_key_has_a_title():
    for aspect in ASPECTS.values():
        assert aspect.title and aspect.paper and aspect.meanings
        for case, text in aspect.meanings.items():
            fields = {name for _, name, _, _ in string.Formatter().parse(text) if name}
            assert meaning(aspect.key, case, **dict.fromkeys(fields, "X"))
    assert title("concat_order") == "concatenation order" and title("padding") == "conv padding"
    assert set(NOTE_TEXT) == {"concat_order", "init_truncated", "no_dropout", "training_only"}


def test_pair_reads_keras_size_settings():
    assert pair(3) == (3, 3) and pair((2, 2)) == (2, 2) and pair([5, 3]) == (5, 3) and pair(None, 2) == (2, 2)


def test_the_json_form_follows_the_contract():
    report = AuditReport(
        name="m",
        input_size=(64, 64),
        in_channels=3,
        output_size=(64, 64),
        num_classes=1,
        params=100,
        depth=2,
        paddings=["same"],
        level_channels=[4, 8, 16],
        skips=[],
        normalisation={},
        dropout=[],
        initialiser="unknown",
        head="sigmoid",
        deviations=[Deviation("head", "1 channel, sigmoid", "softmax", "equivalent")],
        notes=[Note("concat_order", "a permutation")],
    )
    data = report.as_dict()
    assert data["deviations"] == [
        {"aspect": "head", "found": "1 channel, sigmoid", "paper": "softmax", "meaning": "equivalent"}
    ]
    assert data["notes"] == [{"aspect": "concat_order", "text": "a permutation"}]
    assert data["config"]["in_channels"] == 3 and data["config"]["num_classes"] == 1
    assert data["config"]["paper_params"] is None and report.params_account() == "100"


def test_the_compared_tile_is_the_nearest_valid_one():
    # Depth 4, valid padding: valid sides are 16k + 60 (..., 252, 268, ..., 572, 588).
    side, reason = nearest_paper_side(256, 4)
    assert side == 252 and reason == "the valid sides either side of 256 are 252 and 268"
    assert nearest_paper_side(264, 4)[0] == 268
    side, reason = nearest_paper_side(260, 4)  # a tie: the larger, which holds the whole tile
    assert side == 268 and "halfway between the valid 252 and 268" in reason
    assert nearest_paper_side(572, 4) == (572, "")


@given(st.integers(1, 1200), st.integers(1, 5))
def test_nearest_paper_side_is_nearest_by_distance(side, depth):
    valid = [n for n in range(1, 1700) if ar.is_valid_side(n, depth, "valid")]
    choice, _ = nearest_paper_side(side, depth)
    best = min(abs(n - side) for n in valid)
    assert choice is not None and ar.is_valid_side(choice, depth, "valid") and abs(choice - side) == best
    if side + best in valid and side - best in valid:
        assert choice == side + best


@given(st.integers(1, 1000), st.integers(1, 5))
def test_covering_side_is_the_smallest_tile_that_predicts_every_pixel(out, depth):
    tile = covering_side(out, depth)
    assert tile is not None and ar.trace_side(tile, depth, "valid").output >= out
    smaller = [n for n in range(1, tile) if ar.is_valid_side(n, depth, "valid")]
    assert all(ar.trace_side(n, depth, "valid").output < out for n in smaller)


def test_covering_256_pixels_takes_444_while_the_nearest_tile_is_252():
    assert covering_side(256, 4) == 444 and ar.trace_side(444, 4, "valid").output == 260
    assert ar.trace_side(428, 4, "valid").output == 244  # the valid tile below it falls short


def _report(**changes):
    values = {
        "name": "m",
        "input_size": (572, 572),
        "in_channels": 1,
        "output_size": (388, 388),
        "num_classes": 2,
        "params": 100,
        "depth": 4,
        "paddings": ["valid"],
        "level_channels": [],
        "skips": [],
        "normalisation": {},
        "dropout": [],
        "initialiser": "unknown",
        "head": "softmax",
    }
    return AuditReport(**(values | changes))


def test_the_dropout_summary_says_where_the_paper_puts_it():
    assert dropout_summary(_report()) == "none (the paper: at the end of the contracting path, while training)"
    paper_places = [("Dropout", "0.5", "enc4"), ("Dropout", "0.5", "bottleneck")]
    assert dropout_summary(_report(dropout_places=paper_places)) == (
        "Dropout 0.5 in enc4, bottleneck (where the paper puts it)"
    )
    elsewhere = [("Dropout", "0.1", "enc1"), ("SpatialDropout2D", "", "dec1")]
    assert dropout_summary(_report(dropout_places=elsewhere)) == "Dropout 0.1 in enc1; SpatialDropout2D in dec1"


def test_the_parameter_account_reads_as_a_sum():
    from unet_explain.core.spec import build_spec

    spec = build_spec(UNetConfig())
    paper = spec.totals.params
    report = _report(params=paper + 100 - 30, paper=spec, param_sources={"normalisation": 100, "conv_bias": -30})
    assert report.params_account() == (
        f"{paper + 70:,} = {paper:,} (the paper network) + 100 (normalisation) - 30 (conv bias)"
    )
    report = _report(params=paper + 5, paper=spec, param_sources={})  # a remainder is shown, never hidden
    assert report.params_account().endswith("+ 5 (not attributed)")
    assert _report(params=paper, paper=spec).params_account() == f"{paper:,} (the same as the paper network)"

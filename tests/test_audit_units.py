"""The audit's modules on their own, without Keras: the spec check, the aspect table, the report's JSON form."""

from __future__ import annotations

import string
import zipfile

import pytest

from unet_explain.model.audit import ASPECTS, AuditError, AuditReport, Deviation, Note, parse_target, title
from unet_explain.model.audit.aspects import NOTE_TEXT, meaning
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


def test_every_meaning_formats_and_every_key_has_a_title():
    for aspect in ASPECTS.values():
        assert aspect.title and aspect.paper and aspect.meanings
        for case, text in aspect.meanings.items():
            fields = {name for _, name, _, _ in string.Formatter().parse(text) if name}
            assert meaning(aspect.key, case, **dict.fromkeys(fields, "X"))
    assert title("concat_order") == "concatenation order" and title("padding") == "conv padding"
    assert set(NOTE_TEXT) == {"concat_order", "init_truncated", "no_dropout"}


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

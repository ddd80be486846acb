"""The audit on a corpus of real public Keras U-Nets whose truth was written before the audit ran (issue 15).

Each model is audited once (``tests/audit_corpus.py``); the tests compare the
reported aspect keys with the model's ``TRUTH``. ``python -m tests.audit_corpus``
prints the same comparison as a report. These tests measure the audit: against an
audit that does not yet generalise they fail, with the figures in the message.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import audit_corpus as ac  # the module next to this file, also run as python -m tests.audit_corpus

# One worker audits the corpus once (under pytest -n 2 --dist loadgroup each worker would build all 32 ports).
# (pyproject holds pytest below 9.2, whose node ids xdist 3.8 cannot suffix with the group: pytest-xdist#1386.)
pytestmark = [pytest.mark.keras, pytest.mark.xdist_group("audit_corpus")]

NAMES = ac.model_names()
UNETS = [n for n in NAMES if ac.truth_of(n)["unet"]]
NOT_UNETS = [n for n in NAMES if not ac.truth_of(n)["unet"]]
CONTRACT_ASPECTS = {
    "padding", "downsampling", "skip_source", "skip_match", "upsampling", "upsampling_activation", "up_channels",
    "channels", "depth", "conv_activation", "normalisation", "dropout", "extra_layers", "head", "init", "conv_bias",
}  # fmt: skip


@pytest.fixture(scope="module")
def results() -> dict[str, ac.Result]:
    from unet_explain.model.keras_unet import weights_left_unset

    group_a, group_b = ac.groups()
    group = {**{n: "A" for n in group_a}, **{n: "B" for n in group_b}}
    # The audit reads the graph, the layers' settings and the weights' shapes, never a weight's value: the ports are
    # built at full width (their parameter counts are part of the truth) with their weights left undrawn, which is
    # most of a build's time. Every result is the same as with drawn weights (python -m tests.audit_corpus draws them).
    with weights_left_unset():
        return {name: ac.audit_one(name, group.get(name, "?")) for name in NAMES}


def test_the_corpus_is_large_and_every_model_is_in_a_group():
    group_a, group_b = ac.groups()
    assert len(UNETS) >= 20 and len(NOT_UNETS) >= 1
    assert set(group_a) | set(group_b) == set(NAMES) and not set(group_a) & set(group_b)


@pytest.mark.parametrize("name", NAMES)
def test_truth_is_complete_and_uses_the_contract_keys(name):
    truth = ac.truth_of(name)
    keys = set(truth["deviations"]) | set(truth.get("either", {})) | set(truth.get("hard_to_see", {}))
    assert keys <= CONTRACT_ASPECTS
    assert not set(truth["deviations"]) & set(truth.get("either", {}))
    assert not set(truth.get("same_as_paper", [])) & keys
    if truth["unet"]:
        assert truth["deviations"], "a U-Net port with no deviation at all would be the paper itself"
    else:
        assert truth["refusal"] and not keys


@pytest.mark.parametrize("name", NAMES)
def test_the_port_has_the_parameter_count_in_its_truth(results, name):
    assert results[name].params == results[name].params_truth, results[name].error


@pytest.mark.parametrize("name", UNETS)
def test_a_unet_is_not_refused(results, name):
    result = results[name]
    assert not result.refused, f"{name} refused: {result.error}"


@pytest.mark.parametrize("name", NOT_UNETS)
def test_a_non_unet_is_refused_in_one_line(results, name):
    result = results[name]
    assert result.refused, f"{name} is not a U-Net but was audited: {sorted(result.reported)}"
    assert result.error.startswith("AuditError") and result.refusal_one_line, result.error
    assert "u-net" in result.error.lower(), f"the refusal should say the model is not a U-Net: {result.error}"


@pytest.mark.parametrize("name", UNETS)
def test_no_aspect_is_reported_that_is_not_true(results, name):
    result = results[name]
    assert not result.false, f"{name}: aspects reported that are not true: {sorted(result.false)}"


def test_the_audit_finds_at_least_90_percent_of_the_true_deviations(results):
    ordered = list(results.values())
    t = ac.totals(ordered)
    assert t["found"] >= 0.9 * t["true"], "\n" + ac.format_report(ordered)


def test_known_parameter_shares(results):
    """Where the truth gives a parameter share (``param_shares``), the audit's split agrees."""
    checked = 0
    for name in UNETS:
        shares = ac.truth_of(name).get("param_shares", {})
        for aspect, share in shares.items():
            checked += 1
            assert results[name].params_by_aspect.get(aspect) == share, (name, aspect, results[name].params_by_aspect)
    assert checked


@pytest.mark.parametrize("name", UNETS)
def test_the_settings_and_totals_stated_are_true(results, name):
    """Input size, channels, classes, output size and parameter total as in the truth; the split sums exactly."""
    result = results[name]
    assert not result.wrong_settings, f"{name}: {result.wrong_settings}"


@pytest.mark.parametrize("name", ["keras_io_depth_estimation", "nvidia_unet_medical"])
def test_a_custom_layer_port_audits_the_same_with_its_weights_drawn(name):
    """The fixture above leaves the weights undrawn; the audit command draws them. For ports whose custom layers
    the audit re-traces, the two reports are the same."""
    from unet_explain.model.audit import audit_model, load_model
    from unet_explain.model.keras_unet import load_keras, weights_left_unset

    def report() -> dict[str, object]:
        load_keras().backend.clear_session()  # the same automatic layer names in both builds
        return audit_model(load_model(f"{ac.CORPUS / name}.py:model")).as_dict()

    with weights_left_unset():
        bare = report()
    assert report() == bare

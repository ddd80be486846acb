"""The analytic spec against the real Keras model (imports TensorFlow; seconds per build)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from unet_explain import ConfigError, UNetConfig, build_model, build_spec
from unet_explain.model.verify import compare_model

pytestmark = pytest.mark.keras

CONFIGS = [
    UNetConfig(),  # the paper
    UNetConfig(input_size=188, depth=4, base_filters=8),
    UNetConfig(input_size=(94, 110), depth=1, base_filters=8),
    UNetConfig(input_size=(140, 172), depth=2, base_filters=8, in_channels=3, num_classes=5),
    UNetConfig(input_size=(124, 92), depth=3, base_filters=4),
    UNetConfig(input_size=412, depth=5, base_filters=4, num_classes=3),
    UNetConfig(input_size=(64, 96), depth=3, base_filters=16, padding="same"),
    UNetConfig(input_size=48, depth=4, base_filters=2, padding="same", in_channels=3),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.describe().replace(" ", ""))
def test_spec_matches_keras_layer_by_layer(config):
    model = build_model(config)
    report = compare_model(config, model)
    assert report.mismatches == []
    assert report.spec_total == report.keras_total
    spec = build_spec(config)
    assert tuple(model.output.shape[1:]) == (*spec.totals.output_size, config.num_classes)


def test_paper_model_counts():
    model = build_model()
    assert model.count_params() == 31_030_658
    assert tuple(model.output.shape[1:]) == (388, 388, 2)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("Conv2D") == 19 and kinds.count("Conv2DTranspose") == 4  # 23 conv layers
    assert kinds.count("Cropping2D") == 4 and kinds.count("BatchNormalization") == 0
    crops = {layer.name: layer.cropping for layer in model.layers if type(layer).__name__ == "Cropping2D"}
    assert crops == {f"dec{k}_crop": ((c, c), (c, c)) for k, c in ((4, 4), (3, 16), (2, 40), (1, 88))}
    assert model.layers[-1].name == "output_softmax" and type(model.layers[-1]).__name__ == "Softmax"
    assert model.get_layer("enc1_conv1").padding == "valid"


def test_copied_map_is_taken_before_pooling():
    model = build_model(UNetConfig(input_size=188, base_filters=4))
    crop = model.get_layer("dec1_crop")
    assert crop.input.name == model.get_layer("enc1_conv2").output.name


def test_initialisation_is_the_papers_gaussian():
    """std sqrt(2/N) with N = 9 * C_in for a 3x3 conv; a plain Gaussian, not truncated."""
    model = build_model(seed=0)
    weights = model.get_layer("enc2_conv1").kernel.numpy().ravel()  # 3x3 over 64 channels: N = 576
    std = math.sqrt(2 / 576)
    assert abs(weights.std() - std) / std < 0.01
    assert abs(weights.mean()) < 0.01 * std
    beyond = np.mean(np.abs(weights) > 2 * std)  # a Gaussian has 4.55% beyond 2 sigma; truncated has 0
    assert 0.04 < beyond < 0.051
    up = model.get_layer("dec4_upconv").kernel.numpy().ravel()  # each output pixel sees 1024 inputs
    assert abs(up.std() - math.sqrt(2 / 1024)) / math.sqrt(2 / 1024) < 0.01


def test_dropout_at_the_end_of_the_contracting_path():
    config = UNetConfig(input_size=188, base_filters=4)
    model = build_model(config, dropout=True)
    drop = model.get_layer("bottleneck_dropout")
    assert drop.rate == 0.5
    assert drop.input.name == model.get_layer("bottleneck_conv2").output.name
    assert compare_model(config, model).ok
    assert all(type(layer).__name__ != "Dropout" for layer in build_model(config).layers)


def test_softmax_sums_to_one():
    config = UNetConfig(input_size=(94, 110), depth=1, base_filters=4, num_classes=3)
    out = build_model(config, seed=1)(np.random.default_rng(0).random((1, 94, 110, 1), dtype=np.float32)).numpy()
    assert out.shape == (1, 94 - 16, 110 - 16, 3)
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=1e-5)


def test_verify_reports_a_mismatch():
    """Comparing a model with the spec of another config must fail, layer by layer."""
    model = build_model(UNetConfig(input_size=204, base_filters=4))
    report = compare_model(UNetConfig(input_size=188, base_filters=4), model)
    assert not report.ok
    assert "enc1_conv1" in {check.name for check in report.mismatches}


def test_invalid_size_is_refused_before_keras():
    with pytest.raises(ConfigError, match="enc2_pool receives 173"):
        build_model(UNetConfig(input_size=358))


def test_verify_cli_agrees(capsys):
    from unet_explain.cli import main

    code = main(["verify", "--input-size", "188", "--base-filters", "4"])
    out = capsys.readouterr().out
    assert code == 0
    assert "agree" in out and "MISMATCH" not in out
    assert "dec1_crop" in out


def test_summary_cli(capsys):
    from unet_explain.cli import main

    assert main(["summary", "--input-size", "188", "--base-filters", "4"]) == 0
    out = capsys.readouterr().out
    assert "dec4_concat" in out and "Total params" in out


def test_a_model_built_without_its_weights_has_the_same_layers_shapes_and_counts():
    """What the docs build: the weights are never drawn, everything a page reads is the same."""
    from unet_explain.model.audit import audit_model
    from unet_explain.model.keras_unet import weights_left_unset

    config = UNetConfig(input_size=188, base_filters=4)
    with weights_left_unset():
        bare = build_model(config)
        bare_check = compare_model(config, bare)
        bare_audit = audit_model(bare, reference=config).as_dict()
    full = build_model(config)
    assert bare_check.ok and bare.count_params() == full.count_params() == build_spec(config).totals.params
    assert [(layer.name, layer.output.shape) for layer in bare.layers] == [
        (layer.name, layer.output.shape) for layer in full.layers
    ]
    assert bare_audit == audit_model(full, reference=config).as_dict()
    # The drawn model is untouched, and a model traced after the block works as usual.
    assert np.isfinite(full.weights[0].numpy()).all()

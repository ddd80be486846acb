"""The 3D U-Net as a Keras model (Conv3D, MaxPooling3D, Conv3DTranspose, Cropping3D, BN) against the spec."""

from __future__ import annotations

import pytest

from unet_explain import UNetExplainError, build_model
from unet_explain.config import preset
from unet_explain.core.param_count import reconcile_config
from unet_explain.model.verify import compare_model

pytestmark = pytest.mark.keras


def test_the_3d_unet_matches_the_spec_and_the_papers_count():
    config = preset("3d-unet")
    model = build_model(config)
    report = compare_model(config, model)
    assert report.mismatches == [] and report.spec_total == model.count_params()
    assert tuple(model.output.shape[1:]) == (44, 44, 28, 3)
    kinds = {type(layer).__name__ for layer in model.layers}
    assert {"Conv3D", "MaxPooling3D", "Conv3DTranspose", "Cropping3D", "BatchNormalization"} <= kinds
    # Keras's split of BN: gamma and beta trainable, moving mean and variance not.
    r = reconcile_config(config)
    trainable = sum(int(w.shape.num_elements()) for w in model.trainable_weights)
    frozen = sum(int(w.shape.num_elements()) for w in model.non_trainable_weights)
    assert (trainable, frozen) == (r.trainable, r.batchnorm_moving)
    # The paper's convention: drop the BN values and the up-convolutions' biases.
    upconv_bias = sum(int(layer.bias.shape[0]) for layer in model.layers if type(layer).__name__ == "Conv3DTranspose")
    bn = sum(layer.count_params() for layer in model.layers if type(layer).__name__ == "BatchNormalization")
    assert model.count_params() - bn - upconv_bias == 19_069_955


def test_the_resize_skip_is_refused_for_a_volume():
    from unet_explain.model.keras_unet import Recipe, build_from_recipe

    with pytest.raises(UNetExplainError, match="2D only"):
        build_from_recipe(preset("3d-unet"), Recipe(skip="resize-after-pool"))

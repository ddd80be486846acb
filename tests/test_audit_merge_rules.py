"""General rules the audit corpus showed missing (issue 15): widths at the merge, every output, every conv.

Small hand-built Keras U-Nets (depth 2, 'same' padding), one rule each; the
parameter shares must still sum exactly to the difference from the paper.
"""

from __future__ import annotations

import pytest

from unet_explain.model.audit import audit_model

pytestmark = pytest.mark.keras


def _unet(*, path_width=None, sup_head=False, up_init="he_normal", up_bias=True):
    import keras
    from keras import layers

    def block(x, w):
        for _ in range(2):
            x = layers.Conv2D(w, 3, padding="same", activation="relu", kernel_initializer="he_normal")(x)
        return x

    inputs = keras.Input((32, 32, 1))
    e1 = block(inputs, 8)
    e2 = block(layers.MaxPooling2D()(e1), 16)
    bottom = block(layers.MaxPooling2D()(e2), 32)
    x, outs = bottom, []
    for copy, w in ((e2, 16), (e1, 8)):
        if path_width:  # a path of convs on the copy (MultiResUNet's ResPath), narrowing it
            copy = layers.Conv2D(path_width, 3, padding="same", activation="relu", kernel_initializer="he_normal")(copy)
        up_w = path_width or w
        x = layers.Conv2DTranspose(up_w, 2, strides=2, kernel_initializer=up_init, use_bias=up_bias)(x)
        x = block(layers.concatenate([copy, x]), w)
        if sup_head and w == 16:
            outs.append(layers.Conv2D(2, 1, activation="softmax")(layers.UpSampling2D()(x)))
    outs.append(layers.Conv2D(2, 1, activation="softmax")(x))
    return keras.Model(inputs, outs if len(outs) > 1 else outs[0])


def _sums(report):
    assert "unattributed" not in report.param_sources
    assert report.params - report.paper.totals.params == sum(report.param_sources.values())


def test_an_up_sampled_map_as_wide_as_the_copy_at_the_merge_is_the_papers():
    report = audit_model(_unet(path_width=4))
    assert "up_channels" not in {d.aspect for d in report.deviations}
    assert "up_channels" not in report.param_sources
    _sums(report)


def test_every_output_counts_and_the_segmentation_is_the_output_most_of_the_model_feeds():
    model = _unet(sup_head=True)
    report = audit_model(model)
    assert report.params == model.count_params()
    assert len(report.skips) == 2  # the final output's decoder, not the early supervision head's
    extra = next(d for d in report.deviations if d.aspect == "extra_layers")
    assert "other outputs" in extra.found
    assert report.param_sources["extra_layers"] >= 2 * 16 + 2
    _sums(report)


def test_a_default_initialised_up_conv_is_an_init_deviation():
    assert "init" not in {d.aspect for d in audit_model(_unet()).deviations}
    report = audit_model(_unet(up_init="glorot_uniform"))
    assert "init" in {d.aspect for d in report.deviations}
    assert "Glorot" in report.initialiser


def test_an_up_conv_without_bias_is_a_bias_deviation_with_its_share():
    report = audit_model(_unet(up_bias=False))
    bias = next(d for d in report.deviations if d.aspect == "conv_bias")
    assert "2 of" in bias.found
    assert report.param_sources["conv_bias"] == -(16 + 8)
    _sums(report)

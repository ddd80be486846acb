"""An audit fixture that mixes unpadded and padded 3x3 convolutions (kills a padding-check mutation).

The expected answer was written before running the audit: a network whose 3x3
convolutions are partly "valid" and partly "same" does not have the paper's
padding, so the audit must report a padding deviation that names both.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.keras


def mixed_padding_unet(size: int = 140, base: int = 4):
    """The paper's U-Net at depth 2, written by hand, except that the bottleneck's convolutions pad ("same")."""
    import keras
    from keras import layers

    def block(x, filters, padding):
        for _ in range(2):
            x = layers.Conv2D(filters, 3, padding=padding, activation="relu")(x)
        return x

    inputs = keras.Input((size, size, 1))
    c1 = block(inputs, base, "valid")
    c2 = block(layers.MaxPooling2D(2)(c1), base * 2, "valid")
    x = block(layers.MaxPooling2D(2)(c2), base * 4, "same")
    for copy, filters in ((c2, base * 2), (c1, base)):
        x = layers.Conv2DTranspose(filters, 2, strides=2)(x)
        spare = (copy.shape[1] - x.shape[1]) // 2
        x = block(layers.Concatenate()([layers.Cropping2D(spare)(copy), x]), filters, "valid")
    outputs = layers.Softmax()(layers.Conv2D(2, 1)(x))
    return keras.Model(inputs, outputs, name="mixed_padding")


def test_mixed_valid_and_same_convolutions_deviate_in_padding():
    from unet_explain.model.audit import audit_model

    report = audit_model(mixed_padding_unet())
    padding = [d for d in report.deviations if d.aspect == "padding"]
    assert len(padding) == 1, [d.aspect for d in report.deviations]
    assert "valid" in padding[0].found and "same" in padding[0].found


def test_the_papers_network_of_the_same_size_has_no_padding_deviation():
    """The control: the same depth, widths and tile with every convolution unpadded."""
    from unet_explain import UNetConfig, build_model
    from unet_explain.model.audit import audit_model

    report = audit_model(build_model(UNetConfig(input_size=140, depth=2, base_filters=4)))
    assert "padding" not in {d.aspect for d in report.deviations}

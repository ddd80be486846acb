"""A second U-Net, written straight from the paper, to check the spec against.

:mod:`unet_explain.model.keras_unet` builds its layers from the spec's layer
list: it takes every filter count and every crop from the spec, so comparing
the two catches wrong sizes and wrong parameter formulas but not a wrong
network (a bottleneck of the wrong width would be built just as wrong).

This builder reads only the configuration, the way a learner writes a U-Net
from section 2 of the paper and Figure 1:

* every level has two 3x3 convolutions with a ReLU, "valid" in the paper;
* a 2x2 max-pooling with stride 2 goes one level down, and the number of
  feature channels doubles at each level: ``base_filters * 2**level``;
* going up, a 2x2 up-convolution halves the channels, the copy of the
  contracting map at the same level is cropped to the up-sampled map's size
  (the crop is measured on the two tensors while building, not computed), and
  the two are concatenated before two more 3x3 convolutions;
* a 1x1 convolution maps the last features to the classes, then a softmax.

Nothing here imports the spec, the arithmetic or the name helpers; the layer
names are spelled out so that a test can compare the two layer by layer.

The layer classes are picked by the number of spatial axes of the input tile,
so a volume (three axes) needs only its entries in ``_LAYERS``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from unet_explain.config import UNetConfig

# Spatial axes -> (convolution, pooling, up-convolution, cropping) class names in keras.layers.
_LAYERS = {
    2: ("Conv2D", "MaxPooling2D", "Conv2DTranspose", "Cropping2D"),
}


def build_reference(config: UNetConfig) -> Any:
    """The U-Net of ``config`` as a learner would write it: a Keras model with the spec's layer names."""
    from unet_explain.model.keras_unet import load_keras

    layers = load_keras().layers
    keras = load_keras()
    tile = tuple(config.input_size)
    conv_name, pool_name, up_name, crop_name = _LAYERS[len(tile)]
    Conv, Pool, UpConv, Crop = (getattr(layers, n) for n in (conv_name, pool_name, up_name, crop_name))

    def two_convs(x: Any, filters: int, stage: str) -> Any:
        x = Conv(filters, 3, padding=config.padding, activation="relu", name=f"{stage}_conv1")(x)
        return Conv(filters, 3, padding=config.padding, activation="relu", name=f"{stage}_conv2")(x)

    inputs = keras.Input(shape=(*tile, config.in_channels))
    x = inputs
    copies = []
    for level in range(1, config.depth + 1):  # the contracting path
        x = two_convs(x, config.base_filters * 2 ** (level - 1), f"enc{level}")
        copies.append(x)  # copied before pooling
        x = Pool(2, strides=2, name=f"enc{level}_pool")(x)

    x = two_convs(x, config.base_filters * 2**config.depth, "bottleneck")

    for level in range(config.depth, 0, -1):  # the expansive path
        filters = config.base_filters * 2 ** (level - 1)
        x = UpConv(filters, 2, strides=2, name=f"dec{level}_upconv")(x)
        copy = copies[level - 1]
        spare = [big - small for big, small in zip(copy.shape[1:-1], x.shape[1:-1], strict=True)]
        copy = Crop(tuple((s // 2, s - s // 2) for s in spare), name=f"dec{level}_crop")(copy)
        x = layers.Concatenate(name=f"dec{level}_concat")([copy, x])
        x = two_convs(x, filters, f"dec{level}")

    x = Conv(config.num_classes, 1, name="output_conv")(x)
    outputs = layers.Softmax(name="output_softmax")(x)
    return keras.Model(inputs, outputs, name="reference_unet")

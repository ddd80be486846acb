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

The 3D U-Net (Cicek et al. 2016) is the same recipe over volumes, with two
changes the config names: the channels double inside a level, in the
convolution before the pooling (32, 64 | 64, 128 | ... for 32 base filters),
with the up-convolution keeping its channels and the synthesis convolutions
giving twice the level's base; and batch normalisation before each ReLU.

Nothing here imports the spec, the arithmetic or the name helpers; the layer
names are spelled out so that a test can compare the two layer by layer. The
layer classes are picked by the number of spatial axes of the input tile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from unet_explain.config import UNetConfig

# Spatial axes -> (convolution, pooling, up-convolution, cropping) class names in keras.layers.
_LAYERS = {
    2: ("Conv2D", "MaxPooling2D", "Conv2DTranspose", "Cropping2D"),
    3: ("Conv3D", "MaxPooling3D", "Conv3DTranspose", "Cropping3D"),
}


def build_reference(config: UNetConfig) -> Any:
    """The U-Net of ``config`` as a learner would write it: a Keras model with the spec's layer names."""
    from unet_explain.model.keras_unet import load_keras

    keras = load_keras()
    layers = keras.layers
    tile = tuple(config.input_size)
    Conv, Pool, UpConv, Crop = (getattr(layers, name) for name in _LAYERS[len(tile)])
    base, depth = config.base_filters, config.depth
    three_d = config.channel_schedule == "double_before_pool"  # the 3D U-Net's channels

    def conv(x: Any, filters: int, name: str) -> Any:
        if config.norm != "batch":
            return Conv(filters, 3, padding=config.padding, activation="relu", name=name)(x)
        x = Conv(filters, 3, padding=config.padding, name=name)(x)  # BN before the ReLU
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
        return layers.Activation("relu", name=f"{name}_relu")(x)

    def two_convs(x: Any, first: int, second: int, stage: str) -> Any:
        return conv(conv(x, first, f"{stage}_conv1"), second, f"{stage}_conv2")

    def down_filters(level: int) -> tuple[int, int]:  # level 1 .. depth + 1 (the bottom)
        width = base * 2 ** (level - 1)
        return (width, 2 * width) if three_d else (width, width)

    inputs = keras.Input(shape=(*tile, config.in_channels))
    x = inputs
    copies = []
    for level in range(1, depth + 1):  # the contracting path
        x = two_convs(x, *down_filters(level), f"enc{level}")
        copies.append(x)  # copied before pooling
        x = Pool(2, strides=2, name=f"enc{level}_pool")(x)

    x = two_convs(x, *down_filters(depth + 1), "bottleneck")

    for level in range(depth, 0, -1):  # the expansive path
        filters = base * 2**level if three_d else base * 2 ** (level - 1)
        up = x.shape[-1] if three_d else filters  # the 3D U-Net's up-convolution keeps its channels
        x = UpConv(up, 2, strides=2, name=f"dec{level}_upconv")(x)
        copy = copies[level - 1]
        spare = [big - small for big, small in zip(copy.shape[1:-1], x.shape[1:-1], strict=True)]
        copy = Crop(tuple((s // 2, s - s // 2) for s in spare), name=f"dec{level}_crop")(copy)
        x = layers.Concatenate(name=f"dec{level}_concat")([copy, x])
        x = two_convs(x, filters, filters, f"dec{level}")

    x = Conv(config.num_classes, 1, name="output_conv")(x)
    outputs = layers.Softmax(name="output_softmax")(x)
    return keras.Model(inputs, outputs, name="reference_unet")

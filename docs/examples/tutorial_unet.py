"""A U-Net as many tutorials write it today: padded convolutions, batch normalisation,
bilinear up-sampling and raw logits out. `unet-explain audit` compares it with the paper."""

import keras
from keras import layers


def build(size: int = 256, base: int = 16) -> keras.Model:
    def block(x, filters):
        for _ in range(2):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
        return x

    inputs = keras.Input((size, size, 3))
    skips, x = [], inputs
    for level in range(4):
        x = block(x, base * 2**level)
        skips.append(x)
        x = layers.MaxPooling2D()(x)
    x = block(x, base * 16)
    for level in reversed(range(4)):
        x = layers.UpSampling2D(interpolation="bilinear")(x)
        x = layers.Concatenate()([x, skips[level]])
        x = block(x, base * 2**level)
    logits = layers.Conv2D(2, 1)(x)
    return keras.Model(inputs, logits, name="tutorial_unet")

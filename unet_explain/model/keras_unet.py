"""The exact U-Net of the paper as a Keras model (section 2 and Figure 1).

This is the only module of the package that imports TensorFlow/Keras, and it
does so inside the functions, the first time a model is built: the table, the
sizes and the diagram never pay for it.

Where the paper text and the authors' 2015 Caffe release differ, this model
follows the paper text:

* every up-convolution halves the channels (the Caffe release's last one,
  ``upconv_u1d-u0a``, keeps 128, so its last level concatenates 192 channels);
* no activation after the up-convolution (the Caffe release adds a ReLU);
* the cropped copy comes first in the concatenation, then the up-sampled map
  (the Caffe release puts the up-sampled map first; the order changes neither
  the shapes nor the parameter count);
* weights drawn from a Gaussian with standard deviation sqrt(2/N), N the number
  of incoming nodes of one neuron (the Caffe release's filler is "xavier");
* optional dropout "at the end of the contracting path", placed after the
  bottleneck's second convolution (the Caffe release drops out after the last
  two contracting levels);
* no batch normalisation (neither has any), unless the config asks for it
  (``norm="batch"``, as the 3D U-Net of Cicek et al. does: BN before each ReLU).

A volume (a three-number ``input_size``) gives the 3D U-Net: the same layers in
their 3D form (Conv3D, MaxPooling3D, Conv3DTranspose, Cropping3D), with the
channel schedule and normalisation the config names.

Each layer is named after its stage (``enc1_conv1``, ``enc1_pool``,
``dec4_upconv``, ``dec4_crop``, ``dec4_concat``, ``output_conv``), so the
Keras model, the table and the diagram speak one vocabulary. The layers are
created from the spec's layer list, but their output shapes and parameter
counts are Keras's own, which is what :mod:`unet_explain.model.verify` checks.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from unet_explain.core import names
from unet_explain.core import spec as sp

if TYPE_CHECKING:
    from unet_explain.config import UNetConfig

PAPER_DROPOUT_RATE = 0.5


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Hold file descriptor 2 aside while TensorFlow's C++ runtime starts.

    TensorFlow prints start-up notes (oneDNN, CPU features) from C++ before its
    logging honours TF_CPP_MIN_LOG_LEVEL; they are noise for a teaching tool.
    If the import fails, what was held back is replayed so nothing is lost.
    """
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # stderr is closed (2>&-): nothing to hold, and nothing would be seen anyway
        yield
        return
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        except Exception:  # a Ctrl-C needs no replay of start-up noise
            os.dup2(saved, 2)
            held.seek(0)
            sys.stderr.write(held.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def load_keras() -> Any:
    """Import Keras (TensorFlow backend) quietly, on first use only."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "keras" not in sys.modules:
        # The one place the backend is chosen: the package builds TensorFlow models, whatever the user's
        # KERAS_BACKEND says for their own work (jax, torch), so this process's Keras runs on TensorFlow.
        os.environ["KERAS_BACKEND"] = "tensorflow"
        with _quiet_native_stderr():
            import keras
            import tensorflow as tf

            tf.constant(0)  # start the runtime (and its notes) while stderr is held
    import keras

    backend = keras.backend.backend()
    if backend != "tensorflow":
        from unet_explain.errors import MissingToolError

        raise MissingToolError(
            f"Keras was already imported with the {backend!r} backend in this process; unet-explain builds "
            "TensorFlow models: set KERAS_BACKEND=tensorflow before importing keras"
        )
    return keras


def paper_initializer(keras: Any, fan_in: int) -> Any:
    """Gaussian with std sqrt(2/N), N = incoming nodes of one neuron (paper section 3)."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=math.sqrt(2.0 / fan_in))


@dataclass(frozen=True)
class Recipe:
    """The construction choices of a U-Net; the defaults are the paper's text.

    The built-in variants (:mod:`unet_explain.model.variants`) change these and
    nothing else, so every variant is built by the same code as the paper's
    network.
    """

    relu_after_upconv: bool = False
    """A ReLU on each up-convolution (the Caffe release), or none (the paper)."""
    upsampled_first: bool = False
    """Concatenate the up-sampled map first (the Caffe release), or the cropped copy first."""
    dropout: tuple[tuple[str, float], ...] = ()
    """(stage, rate) pairs: dropout after the stage's last convolution, before its map is copied or pooled."""
    init: str = "paper"
    """"paper" (Gaussian, std sqrt(2/N)) or "xavier" (as stock Caffe defines it: uniform, variance 1/fan-in)."""
    skip: str = "crop"
    """"crop" (copy before pooling, centre crop) or "resize-after-pool" (copy after pooling, resize)."""
    batchnorm: bool = False
    """Batch normalisation between each 3x3 convolution and its ReLU (also set by the config's ``norm``)."""
    zero_crops: bool = True
    """Keep a Cropping2D layer even where the crop is 0 (so the model matches the spec layer for layer)."""
    last_upconv_keeps_channels: bool = False
    """The last up-convolution (into ``dec1``) keeps its input's channels instead of halving them (the Caffe
    release: 128 there, so ``dec1`` concatenates 128 + 64 and its first convolution reads 192 channels)."""


PAPER = Recipe()


@contextlib.contextmanager
def weights_left_unset() -> Iterator[None]:
    """Build (and trace, audit, summarise) Keras models without drawing their initial weights.

    A layer's variables then have their shape, dtype and initialiser but no value
    (Keras's ``StatelessScope(initialize_variables=False)``): the layers, the output
    shapes, the parameter counts and every setting the audit reads are there, the
    31 million random numbers of the paper's network are not, and they are most of
    a build's time. For the docs, which read no weight. A model built here must not
    be run. On leaving, the unset variables are dropped from Keras's list of
    variables to set later (Keras has no public call for it; without it the next
    model traced anywhere in the process would set them all). If that list is not
    where this Keras keeps it, models are built with their weights, as usual.
    """
    keras = load_keras()
    try:
        from keras.src.backend.common import global_state
    except ImportError:  # pragma: no cover - a Keras that moved its internals: build as usual
        yield
        return
    pending = global_state.get_global_attribute("uninitialized_variables", [], set_to_default=True)
    before = list(pending)
    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:
        global_state.set_global_attribute("uninitialized_variables", before)


def build_model(config: UNetConfig | None = None, *, dropout: bool | float = False, seed: int | None = None) -> Any:
    """Build the paper's U-Net for ``config`` (default: the paper's 572x572 tile).

    ``dropout=True`` adds the paper's dropout (rate 0.5) at the end of the
    contracting path; a float sets another rate. ``seed`` makes the initial
    weights reproducible.
    """
    rate = PAPER_DROPOUT_RATE if dropout is True else float(dropout)
    recipe = Recipe(dropout=((names.BOTTLENECK, rate),)) if rate > 0 else PAPER
    return build_from_recipe(config, recipe, seed=seed)


def build_from_recipe(config: UNetConfig | None, recipe: Recipe, *, seed: int | None = None, name: str = "unet") -> Any:
    """Build a U-Net for ``config`` with the construction choices of ``recipe``."""
    from unet_explain.config import UNetConfig
    from unet_explain.core.budget import check_memory
    from unet_explain.errors import UNetExplainError

    config = config or UNetConfig()
    dims = len(config.input_size)
    if dims == 3 and recipe.skip == "resize-after-pool":
        raise UNetExplainError("the resize-after-pool skip is 2D only (Keras has no 3D Resizing layer); use a 2D size")
    check_memory(config)  # before TensorFlow is imported: refuse what would not fit
    spec = sp.build_spec(config)
    keras = load_keras()
    layers = keras.layers
    conv_layer, pool_layer = (layers.Conv2D, layers.MaxPooling2D) if dims == 2 else (layers.Conv3D, layers.MaxPooling3D)
    upconv_layer, crop_layer = (
        (layers.Conv2DTranspose, layers.Cropping2D) if dims == 2 else (layers.Conv3DTranspose, layers.Cropping3D)
    )
    # The config's BN comes as spec layers (<conv>_bn); a recipe's BN (a variant) is added here.
    recipe_bn = recipe.batchnorm and config.norm is None
    normed = recipe_bn or config.norm == "batch"
    if seed is not None:
        keras.utils.set_random_seed(seed)
    dropout = dict(recipe.dropout)

    def init(fan_in: int) -> Any:
        if recipe.init == "xavier":
            return keras.initializers.VarianceScaling(1.0, mode="fan_in", distribution="uniform")
        return paper_initializer(keras, fan_in)

    inputs = keras.Input(shape=(*config.input_size, config.in_channels), name=names.INPUT)
    x = inputs
    c_in = config.in_channels
    skips: dict[str, Any] = {}
    copy: Any = None

    for stage in spec.stages:
        for layer in stage.layers:
            # --8<-- [start:conv3x3]
            if layer.kind in (sp.CONV3X3, sp.BATCHNORM):
                if layer.kind == sp.CONV3X3:
                    # Unpadded in the paper: each conv trims a border pixel, hence the crops later.
                    # conv_layer is layers.Conv2D (layers.Conv3D, 3x3x3, for a volume).
                    conv = conv_layer(
                        layer.channels,
                        3,
                        padding=config.padding,
                        activation=None if normed else "relu",
                        kernel_initializer=init(3**dims * c_in),
                        name=layer.name,
                    )
                    x = conv(x)
                conv_name = layer.name.removesuffix("_bn")
                if layer.kind == sp.BATCHNORM or recipe_bn:
                    x = layers.BatchNormalization(name=f"{conv_name}_bn")(x)
                    x = layers.Activation("relu", name=f"{conv_name}_relu")(x)
                last = names.conv(stage.name, len(stage.conv_sizes))
                if layer.name == (f"{last}_bn" if config.norm == "batch" else last) and stage.name in dropout:
                    x = layers.Dropout(dropout[stage.name], name=names.layer(stage.name, "dropout"))(x)
            # --8<-- [end:conv3x3]
            # --8<-- [start:maxpool]
            elif layer.kind == sp.MAXPOOL:
                skips[stage.name] = x  # copied *before* pooling, at full resolution of its level
                x = pool_layer(pool_size=2, strides=2, name=layer.name)(x)
                if recipe.skip == "resize-after-pool":
                    skips[stage.name] = x
            # --8<-- [end:maxpool]
            # --8<-- [start:upconv]
            elif layer.kind == sp.UPCONV:
                # A 2x2 stride-2 up-conv: each output pixel gets one tap per input channel.
                # upconv_layer is layers.Conv2DTranspose (layers.Conv3DTranspose, 2x2x2, for a volume).
                keep = recipe.last_upconv_keeps_channels and stage.name == names.decoder(1)
                x = upconv_layer(
                    c_in if keep else layer.channels,
                    2,
                    strides=2,
                    activation="relu" if recipe.relu_after_upconv else None,
                    kernel_initializer=init(c_in),
                    name=layer.name,
                )(x)
            # --8<-- [end:upconv]
            # --8<-- [start:crop-concat]
            elif layer.kind == sp.CROP:
                assert stage.crop is not None and stage.skip_from is not None
                source = skips[stage.skip_from]
                if recipe.skip == "resize-after-pool":
                    copy = layers.Resizing(*layer.out_size, name=names.layer(stage.name, "resize"))(source)
                elif recipe.zero_crops or any(stage.crop):
                    copy = crop_layer(tuple((c, c) for c in stage.crop), name=layer.name)(source)
                else:
                    copy = source
                continue
            elif layer.kind == sp.CONCAT:
                pair = [x, copy] if recipe.upsampled_first else [copy, x]
                x = layers.Concatenate(axis=-1, name=layer.name)(pair)
            # --8<-- [end:crop-concat]
            # --8<-- [start:output]
            elif layer.kind == sp.CONV1X1:
                x = conv_layer(layer.channels, 1, kernel_initializer=init(c_in), name=layer.name)(x)
            elif layer.kind == sp.SOFTMAX:
                x = layers.Softmax(axis=-1, name=layer.name)(x)
            # --8<-- [end:output]
            else:  # pragma: no cover - a new kind must be taught to the builder
                raise NotImplementedError(layer.kind)
            c_in = int(x.shape[-1])  # the built map's width: a recipe may differ from the spec here

    return keras.Model(inputs, x, name=name)

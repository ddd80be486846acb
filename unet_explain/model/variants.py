"""Built-in U-Net variants, each a real Keras model built by the paper's builder with other choices.

* ``paper``: the paper's text (this package's network).
* ``caffe-release``: the authors' 2015 Caffe release, as its
  ``phseg_v5-train.prototxt`` (u-net-release-2015-10) defines it: the last
  up-convolution (``upconv_u1d-u0a``) keeps 128 channels instead of halving to
  64, so ``conv_u0b-c`` reads 192 channels (31,100,354 parameters for the
  paper's tile, 69,696 more than Figure 1; no size changes); a ReLU after each
  up-convolution; the up-sampled map first in the concatenation; dropout 0.5
  after the last two contracting levels (in place, so the copied map of the
  last encoder level carries it too); and the "xavier" filler. Stock Caffe's
  xavier is uniform with variance 1/fan-in, which is what is built here; the
  release ships a modified Caffe whose xavier was not checked. (The msra filler
  and leaky ReLU belong to the later Fiji plugin model, a different network.)
* ``tutorial-resize``: as a popular tutorial writes it: the skip connection
  copies the map *after* the pooling and resizes it to the up-sampled size
  instead of cropping.
* ``same-padding``: the common modern form: padding "same" everywhere and batch
  normalisation after each 3x3 convolution; the output is as large as the input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from unet_explain.core import arithmetic as ar
from unet_explain.core import names
from unet_explain.errors import UNetExplainError
from unet_explain.model.keras_unet import PAPER, PAPER_DROPOUT_RATE, Recipe, build_from_recipe

if TYPE_CHECKING:
    from unet_explain.config import UNetConfig


@dataclass(frozen=True)
class Variant:
    """A named way of building the U-Net."""

    name: str
    """The variant's name on the command line and in ``compare``'s JSON keys (hyphenated, ``caffe-release``);
    its Keras model is named :func:`~unet_explain.core.names.keras_name` of it (``caffe_release``)."""
    summary: str
    """One line: what it is."""
    padding: str
    """The convolutions' padding."""

    def recipe(self, depth: int) -> Recipe:
        """The construction choices for a network of ``depth`` poolings."""
        if self.name == "caffe-release":
            last_two = ((names.encoder(depth), PAPER_DROPOUT_RATE), (names.BOTTLENECK, PAPER_DROPOUT_RATE))
            return Recipe(
                relu_after_upconv=True,
                upsampled_first=True,
                dropout=last_two,
                init="xavier",
                last_upconv_keeps_channels=True,
            )
        if self.name == "tutorial-resize":
            return Recipe(skip="resize-after-pool")
        if self.name == "same-padding":
            return Recipe(batchnorm=True, zero_crops=False)
        return PAPER


VARIANTS = {
    v.name: v
    for v in (
        Variant("paper", "the paper's text: valid 3x3 convs, crop the copy taken before pooling", "valid"),
        Variant(
            "caffe-release",
            "the authors' Caffe release (128-channel last up-conv, ReLU after up-conv, dropout, xavier)",
            "valid",
        ),
        Variant("tutorial-resize", "skip copied after the pooling and resized instead of cropped", "valid"),
        Variant("same-padding", "padding 'same' and batch normalisation everywhere", "same"),
    )
}


def variant_config(name: str, config: UNetConfig) -> tuple[UNetConfig, str]:
    """The config a variant is built with, and a note if its size had to change.

    A "same"-padding network needs every size divisible by 2^depth; if the
    requested tile is not, the next valid size up is used and the note says so.
    """
    from unet_explain.config import UNetConfig

    variant = get_variant(name)
    if variant.padding == config.padding:
        return config, ""
    h, w = config.input_size
    sizes = []
    for side in (h, w):
        above = side if ar.is_valid_side(side, config.depth, variant.padding) else None
        above = above or ar.nearest_valid_sides(side, config.depth, variant.padding)[1]
        if above is None:
            raise UNetExplainError(f"no tile of {variant.padding!r} padding fits near {side} pixels")
        sizes.append(above)
    size = (sizes[0], sizes[1])
    built = UNetConfig(**(config.as_dict() | {"padding": variant.padding, "input_size": size}))
    note = (
        ""
        if size == (h, w)
        else f"built at {size[0]}x{size[1]}: padding {variant.padding!r} needs a multiple of {2**config.depth}"
        if variant.padding == "same"
        else f"built at {size[0]}x{size[1]}, the next valid size up: {h}x{w} is not a valid tile for padding "
        f"{variant.padding!r} at depth {config.depth}"
    )
    return built, note


def get_variant(name: str) -> Variant:
    """The variant called ``name``, or a clear error listing the known ones."""
    if name not in VARIANTS:
        raise UNetExplainError(f"unknown variant {name!r}; known variants: {', '.join(VARIANTS)}")
    return VARIANTS[name]


def build_variant(name: str, config: UNetConfig, *, seed: int | None = None) -> tuple[Any, UNetConfig, str]:
    """Build variant ``name`` for ``config``; return the Keras model, the config used and a note."""
    variant = get_variant(name)
    used, note = variant_config(name, config)
    model = build_from_recipe(used, variant.recipe(used.depth), seed=seed, name=names.keras_name(name))
    return model, used, note


def compare_variants(names: list[str], config: UNetConfig) -> tuple[dict[str, Any], dict[str, str]]:
    """Build each variant for ``config`` (the paper always first) and audit it against the same config.

    Returns the audit reports and the build notes, by variant name.
    """
    from unet_explain.model.audit import audit_model

    for name in names:
        get_variant(name)
    ordered = list(dict.fromkeys(["paper", *names]))
    reports, notes = {}, {}
    for name in ordered:
        model, _, notes[name] = build_variant(name, config)
        reports[name] = audit_model(model, reference=config)
    return reports, notes

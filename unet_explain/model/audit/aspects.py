"""The aspects an audit compares, and their wording: the one table both the rich output and the JSON read.

Each aspect has a stable key (the JSON's ``aspect``), a title for people, what
the paper does, and what each kind of departure means for a learner. The
comparison picks a meaning by its case name and fills in the numbers; no
wording lives anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Aspect:
    """One thing the audit compares with the paper."""

    key: str
    """Stable key, as in the JSON (``padding``)."""
    title: str
    """Title for the table (``conv padding``)."""
    paper: str
    """What the paper does."""
    meanings: dict[str, str] = field(default_factory=dict)
    """What a departure means, by case; ``{...}`` fields are filled in by the comparison."""


ASPECTS: dict[str, Aspect] = {
    a.key: a
    for a in (
        Aspect(
            "padding",
            "conv padding",
            "valid (no padding): each 3x3 conv loses a 1-pixel border",
            {
                "same": "the maps keep their size, so nothing needs cropping and the output is as large as the "
                "input ({out}); pixels near every border are computed partly from invented zeros. The paper's "
                "network instead predicts only pixels with full context: from a tile of {tile} it "
                "predicts {paper_out} pixels (a margin of {margin} pixels on each side), and {cover}",
                "cover": "the smallest tile whose output covers all {out} pixels in one pass is {tile} "
                "(output {tile_out}); else several tiles with mirrored borders",
                "tiles": "a large image is predicted tile by tile, with mirrored borders",
                "mixed": "some convolutions pad and some do not: the maps shrink only at the valid ones, so the "
                "output ({out}) is neither the input's size nor the paper's valid-padding size",
                "zero": "(a ZeroPadding2D before a valid conv is the same as padding 'same')",
            },
        ),
        Aspect(
            "downsampling",
            "down-sampling",
            "max-pooling 2x2, stride 2",
            {
                "strided": "a learned down-sampling replaces the fixed maximum: the network chooses what to keep "
                "(more parameters), where the paper keeps the strongest response of each 2x2 block",
                "average": "averaging keeps a blurred summary of each block instead of its strongest response",
                "other": "another way of halving the resolution; the levels are the same",
            },
        ),
        Aspect(
            "skip_source",
            "skip connection source",
            "the map fed to the down-sampling (the last conv of the level)",
            {
                "after": "the copy has half the resolution, so the fine detail the skip connection exists to "
                "carry is already lost",
                "elsewhere": "the copy is not the level's final map, so it carries less processed features",
                "input": "the raw input image is copied, not a learned feature map",
                "gated": "an attention gate weights the copy, pixel by pixel, with a map computed from both paths "
                "(Attention U-Net); the paper copies it unchanged",
                "extra": "the concatenation joins more than one copy",
                "pooled": "the copy is the map right after the pooling, before this level's convolutions: the "
                "decoder gets a less processed map than the level's last conv",
            },
        ),
        Aspect(
            "skip_match",
            "skip size matching",
            "centre crop of the copy (valid convs shrink the up-sampled map)",
            {
                "resize": "resizing stretches the copy, so its pixels no longer sit over the pixels they describe",
                "pad": "padding adds invented zeros around the map",
                "uncentred": "the crop is not centred, so the copy is shifted against the up-sampled map",
                "lambda": "a Lambda layer matches the sizes in code the audit cannot read",
            },
        ),
        Aspect(
            "upsampling",
            "up-sampling",
            "transposed conv 2x2, stride 2 (the up-convolution)",
            {
                "fixed": "a fixed interpolation replaces the learned up-convolution",
                "fixed+conv": "a fixed interpolation, then a learned convolution: learned like the paper's "
                "up-convolution, but it mixes neighbouring pixels after enlarging",
                "other": "another learned up-sampling; sizes and parameters change",
            },
        ),
        Aspect(
            "upsampling_activation",
            "activation after up-sampling",
            "none: the up-convolution is linear",
            {
                "relu": "an activation on the up-sampled map (the authors' Caffe release has a ReLU there, the "
                "paper's text none); sizes and parameters do not change",
            },
        ),
        Aspect(
            "up_channels",
            "channels after up-sampling",
            "halved by the up-convolution (1024 -> 512)",
            {
                "kept": "the up-sampled map keeps its channels, so the concatenation at that level is wider ({widths}) "
                "and the decoder's first conv there has more weights",
                "other": "the up-sampled map is not as wide as the copy, so the concatenations have other widths "
                "({widths})",
            },
        ),
        Aspect(
            "channels",
            "channels per level",
            "64, 128, 256, 512, 1024 (doubling at each level)",
            {
                "width": "a narrower or wider network: the parameter count scales with the square of the channels",
                "decoder": "the decoder levels do not mirror the encoder's channels",
            },
        ),
        Aspect(
            "depth",
            "depth",
            "4 down-samplings (5 levels)",
            {
                "depth": "a different number of levels: the deepest map is 1/{deep} of the input's side instead "
                "of the paper's 1/16, so the receptive field and the context margin change",
                "skips": "not every level has a skip connection, so the decoder gets no copy at some resolutions",
                "stops": "the decoder stops at 1/{scale} of the input's side: no convolutions and no copy at the "
                "finer levels, so the output is interpolated from a coarser map",
                "coarse": "the decoder stops at 1/{scale} of the input's side: no convolutions and no copy at the "
                "finer levels, and the output is that coarse (one prediction per {scale}x{scale} pixels)",
            },
        ),
        Aspect(
            "conv_activation",
            "activation after each conv",
            "ReLU after every 3x3 conv",
            {
                "other": "another non-linearity; sizes and parameters do not change, training dynamics do",
                "missing": "some convolutions have no activation, so two convs in a row act as one linear map",
            },
        ),
        Aspect(
            "normalisation",
            "normalisation",
            "none",
            {
                "batch": "not in the paper (batch normalisation came later): learned scale and offset plus "
                "running statistics per channel, and different training dynamics",
            },
        ),
        Aspect(
            "dropout",
            "dropout",
            "Dropout at the end of the contracting path only",
            {
                "placement": "regularisation where the paper has none; it changes training only (no sizes or "
                "parameters)",
                "spatial": "SpatialDropout drops whole channels, not single pixels; it changes training only",
            },
        ),
        Aspect(
            "extra_layers",
            "extra layers",
            "two 3x3 convs per level, then the 1x1 head; nothing else",
            {
                "extra": "layers the paper does not have; each adds parameters and changes the receptive field",
                "fewer": "fewer convolutions than the paper at some levels",
                "residual": "residual (element-wise) connections the paper does not have",
                "kernel": "convolutions of another size or kind than the paper's 3x3: another receptive field "
                "and parameter count",
                "gate": "a gate computed from both paths (Attention U-Net) weights the copy: layers the paper does "
                "not have",
                "conditioning": "a second input joins the network through layers of its own (a conditioning, as "
                "in diffusion U-Nets); the paper has one input, the image",
            },
        ),
        Aspect(
            "head",
            "head",
            "1x1 conv to one channel per class, then softmax over the classes",
            {
                "logits": "the model outputs raw scores; the loss must apply the softmax",
                "sigmoid1": "one channel and a sigmoid: for two classes this is equivalent to the paper's 2-class "
                "softmax (sigmoid(z) = softmax([0, z])[1]), with half the head's weights and a binary "
                "cross-entropy loss",
                "sigmoid": "a sigmoid per channel: independent yes/no maps (several classes may be on at one "
                "pixel) instead of one distribution over the classes",
                "kernel": "the head is not a 1x1 conv, so it also looks at neighbouring pixels",
                "up": "the head itself up-samples: the last level has no skip connection and no convolutions of "
                "its own, so the full-resolution output is interpolated from a coarser map",
                "up_after": "the head's scores are up-sampled to the output size: the output is interpolated from "
                "a coarser map",
                "other": "another output activation",
            },
        ),
        Aspect(
            "init",
            "initialisation",
            "Gaussian, std sqrt(2/N), N = inputs of one neuron (He et al.)",
            {
                "other": "a different starting point for training; no size or parameter changes",
            },
        ),
        Aspect(
            "conv_bias",
            "conv bias",
            "every conv has a bias",
            {
                "missing": "convs without a bias ({count}); the normalisation that follows them has its own offset, "
                "so nothing is lost",
                "missing-plain": "convs without a bias ({count}, {normed} of them followed by a normalisation whose "
                "offset replaces it); the others lose a learned offset per channel",
            },
        ),
    )
}
"""Every aspect, in the order the report lists them."""

NOTE_TEXT = {
    "concat_order": "the up-sampled map comes first in the concatenation ({levels}); the paper (and this "
    "package) put the copy first. It only permutes the channels: same shapes, same parameters, same function",
    "init_truncated": "{rule}. That is the paper's rule (Gaussian, std sqrt(2/N)) with the tails cut at 2 std "
    "(Keras rescales it so the variance stays 2/N), so not a deviation",
    "no_dropout": "no dropout; the paper adds Dropout at the end of the contracting path while training. It changes "
    "no size and no parameter",
    "training_only": "custom layers ({blocks}) behave differently while training (their code tests a training "
    "flag): what they do then (dropout, noise) is not in the traced graph, so the audit cannot say; read their code",
}
"""Wording of the notes: differences that change nothing."""


def meaning(key: str, case: str, **values: object) -> str:
    """The meaning of aspect ``key`` in ``case``, with its fields filled."""
    return ASPECTS[key].meanings[case].format(**values)


NOTE_TITLES = {
    "concat_order": "concatenation order",
    "in_channels": "input channels (a task setting)",
    "unattributed": "not attributed to an aspect",
}
"""Titles of the other keys: notes and parameter sources that are not aspects."""


def title(key: str) -> str:
    """The title of an aspect or note key, for people."""
    return ASPECTS[key].title if key in ASPECTS else NOTE_TITLES.get(key, key.replace("_", " "))

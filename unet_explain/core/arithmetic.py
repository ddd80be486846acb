"""Spatial arithmetic of the U-Net along one image axis (paper section 2, Figure 1).

Rows and columns never interact in this network, so every spatial size follows
from tracing one number through the layers. This module is the only place in
the package that computes a spatial size or a crop; everything else reads
:class:`SideTrace` (through the spec).

Why sizes shrink: the paper uses 3x3 convolutions *without padding*, so each
one loses a pixel at both borders (572 -> 570 -> 568). Why sizes must be even
before pooling: "it is important to select the input tile size such that all
2x2 max-pooling operations are applied to a layer with an even x- and y-size"
(section 2); an odd size would drop a pixel row and break the alignment of the
copied maps. Why crops: the up-sampled map is smaller than the contracting
map it is joined with, because the convolutions in between lost border
pixels; the paper crops the copy centrally ("copy and crop"), so
crop per side = (skip size - up-sampled size) / 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from unet_explain.core import names

#: Two 3x3 convolutions per level, as in the paper.
CONVS_PER_LEVEL = 2
#: Side of the convolution kernels on both paths.
KERNEL = 3
#: Pooling window and stride, and up-convolution kernel and stride.
SCALE = 2
#: Largest side accepted anywhere: a sanity bound that keeps every command instant.
MAX_SIDE = 100_000

PADDINGS = ("valid", "same")


class SizeBreak(Exception):
    """Internal: a side length that a layer cannot accept."""

    def __init__(self, layer: str, size: int, rule: str) -> None:
        self.layer = layer
        self.size = size
        self.rule = rule
        super().__init__(f"{layer} receives {size}: {rule}")


@dataclass(frozen=True)
class SideTrace:
    """The sizes along one axis, for a side length the network accepts."""

    side: int
    """The input tile's side length."""
    sizes: dict[str, int] = field(default_factory=dict)
    """Output side length of every layer, by layer name (``enc1_conv1``: 570)."""
    crops: dict[str, int] = field(default_factory=dict)
    """Pixels cropped from each border of the copied map, by decoder stage."""

    @property
    def output(self) -> int:
        """Side length of the output segmentation map."""
        return self.sizes[names.layer(names.OUTPUT, "conv")]

    @property
    def margin(self) -> int:
        """Context pixels the output lacks on each border: (input - output) / 2 (92 for the paper)."""
        return (self.side - self.output) // 2


def kernel_name(side: int, dims: int = 2) -> str:
    """``"3x3"`` for an image's kernel, ``"3x3x3"`` for a volume's."""
    return "x".join([str(side)] * dims)


def _conv(layer: str, n: int, padding: str, sizes: dict[str, int], dims: int) -> int:
    if padding == "valid":
        # An unpadded 3x3 conv needs a full 3x3 window; it loses KERNEL - 1 pixels.
        if n < KERNEL:
            kernel = kernel_name(KERNEL, dims)
            raise SizeBreak(layer, n, f"a {kernel} convolution without padding needs at least {KERNEL} pixels")
        n -= KERNEL - 1
    sizes[layer] = n
    return n


def trace_side(n: int, depth: int, padding: str, dims: int = 2) -> SideTrace:
    """Trace side length ``n`` through a U-Net with ``depth`` poolings.

    The rules are the same along every axis of an image or a volume; ``dims``
    only names the kernels in a message. Raises :class:`SizeBreak` naming the
    first layer that cannot accept the size it receives.
    """
    sizes: dict[str, int] = {}
    crops: dict[str, int] = {}
    skips: list[int] = []
    x = n
    for level in range(1, depth + 1):
        stage = names.encoder(level)
        for i in range(1, CONVS_PER_LEVEL + 1):
            x = _conv(names.conv(stage, i), x, padding, sizes, dims)
        skips.append(x)
        if x % SCALE:
            pool = kernel_name(SCALE, dims)
            raise SizeBreak(names.layer(stage, "pool"), x, f"{pool} max-pooling with stride 2 needs an even size")
        x //= SCALE
        sizes[names.layer(stage, "pool")] = x
    for i in range(1, CONVS_PER_LEVEL + 1):
        x = _conv(names.conv(names.BOTTLENECK, i), x, padding, sizes, dims)
    for level in range(depth, 0, -1):
        stage = names.decoder(level)
        x *= SCALE
        sizes[names.layer(stage, "upconv")] = x
        margin = skips[level - 1] - x
        if margin < 0 or margin % 2:
            # Cannot happen once every pooling saw an even size; kept as the rule's guard.
            raise SizeBreak(names.layer(stage, "crop"), skips[level - 1], f"cannot centre-crop to {x}")
        crops[stage] = margin // 2
        sizes[names.layer(stage, "crop")] = x
        sizes[names.layer(stage, "concat")] = x
        for i in range(1, CONVS_PER_LEVEL + 1):
            x = _conv(names.conv(stage, i), x, padding, sizes, dims)
    sizes[names.layer(names.OUTPUT, "conv")] = x
    if x < 1:
        raise SizeBreak(names.layer(names.OUTPUT, "conv"), x, "the output map would be empty")
    return SideTrace(side=n, sizes=sizes, crops=crops)


def side_break(n: int, depth: int, padding: str, dims: int = 2) -> SizeBreak | None:
    """The first rule side length ``n`` breaks, or ``None`` if it is valid."""
    if n < 1:
        return SizeBreak("input", n, "a side must be at least 1 pixel")
    try:
        trace_side(n, depth, padding, dims)
    except SizeBreak as brk:
        return brk
    return None


def is_valid_side(n: int, depth: int, padding: str) -> bool:
    """Whether the network accepts side length ``n``."""
    return side_break(n, depth, padding) is None


def valid_sides(minimum: int, maximum: int, depth: int, padding: str) -> list[int]:
    """All valid side lengths in ``[minimum, maximum]`` (clamped to ``[1, MAX_SIDE]``)."""
    lo, hi = max(1, minimum), min(MAX_SIDE, maximum)
    first = next((n for n in range(lo, hi + 1) if is_valid_side(n, depth, padding)), None)
    if first is None:
        return []
    # Each pooling fixes one more bit of the side (its input must be even), so all valid sides share one
    # remainder modulo 2**depth; and adding 2**depth to a valid side adds an even number to every pooling's
    # input and makes no map smaller, so it stays valid. The valid sides are the first one and every
    # 2**depth after it (tests/test_sizes.py checks this against tracing every side).
    return list(range(first, hi + 1, SCALE**depth))


def nearest_valid_sides(n: int, depth: int, padding: str) -> tuple[int | None, int | None]:
    """The closest valid side lengths strictly below and above ``n`` (``None`` if none)."""
    below = next((m for m in range(min(n - 1, MAX_SIDE), 0, -1) if is_valid_side(m, depth, padding)), None)
    above = next((m for m in range(max(n + 1, 1), MAX_SIDE + 1) if is_valid_side(m, depth, padding)), None)
    return below, above


def conv_params(kernel: int, c_in: int, c_out: int, dims: int = 2) -> int:
    """Weights and biases of a ``kernel`` x ``kernel`` convolution (also a transposed one; x ``kernel`` in 3D)."""
    return math.prod((kernel,) * dims) * c_in * c_out + c_out


def batchnorm_params(channels: int) -> int:
    """What Keras counts for a BatchNormalization layer: per channel a trainable scale (gamma) and
    shift (beta), and the moving mean and variance it keeps for inference (not trainable)."""
    return 4 * channels


def voxels(size: tuple[int, ...]) -> int:
    """Pixels of an image or voxels of a volume: the product of its sides."""
    return math.prod(size)


def conv_macs_nd(kernel: int, out_size: tuple[int, ...], c_in: int, c_out: int) -> int:
    """Multiply-accumulates of a dense convolution over 2 or 3 axes: one kernel window per output value."""
    return voxels(out_size) * math.prod((kernel,) * len(out_size)) * c_in * c_out


def map_bytes(size: tuple[int, ...], channels: int) -> int:
    """Bytes of one float32 feature map of ``size`` (2 or 3 axes) x ``channels``."""
    return voxels(size) * channels * FLOAT32_BYTES


CHANNEL_SCHEDULES = ("double_per_level", "double_before_pool")


def encoder_channels(schedule: str, base: int, level: int) -> tuple[int, ...]:
    """Output channels of each 3x3 convolution of contracting level ``level`` (``depth + 1``: the bottom).

    The 2D paper doubles the channels from level to level (64, 64 | 128, 128 ...);
    the 3D U-Net doubles them inside a level, in the convolution before the pooling
    (32, 64 | 64, 128 | 128, 256 | bottom 256, 512).
    """
    if schedule == "double_before_pool":
        return (base << (level - 1),) + (base << level,) * (CONVS_PER_LEVEL - 1)
    return (base << (level - 1),) * CONVS_PER_LEVEL


def decoder_channels(schedule: str, base: int, level: int, c_in: int) -> tuple[int, int]:
    """(up-convolution channels, 3x3 convolution channels) of expansive level ``level``.

    The 2D paper's up-convolution halves the ``c_in`` channels coming up; the 3D
    U-Net's keeps them and its convolutions then give twice the level's base
    (256, 128, 64 for 32 base filters).
    """
    if schedule == "double_before_pool":
        return c_in, base << level
    return base << (level - 1), base << (level - 1)


def upconv_macs(out_size: tuple[int, ...], c_in: int, c_out: int) -> int:
    """Multiply-accumulates of a 2x2 (2x2x2), stride-2 up-convolution over 2 or 3 axes.

    The windows do not overlap, so each output value receives exactly one kernel
    tap per input channel.
    """
    return voxels(out_size) * c_in * c_out


FLOAT32_BYTES = 4

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


def _conv(layer: str, n: int, padding: str, sizes: dict[str, int]) -> int:
    if padding == "valid":
        # An unpadded 3x3 conv needs a full 3x3 window; it loses KERNEL - 1 pixels.
        if n < KERNEL:
            raise SizeBreak(layer, n, f"a {KERNEL}x{KERNEL} convolution without padding needs at least {KERNEL} pixels")
        n -= KERNEL - 1
    sizes[layer] = n
    return n


def trace_side(n: int, depth: int, padding: str) -> SideTrace:
    """Trace side length ``n`` through a U-Net with ``depth`` poolings.

    Raises :class:`SizeBreak` naming the first layer that cannot accept the
    size it receives.
    """
    sizes: dict[str, int] = {}
    crops: dict[str, int] = {}
    skips: list[int] = []
    x = n
    for level in range(1, depth + 1):
        stage = names.encoder(level)
        for i in range(1, CONVS_PER_LEVEL + 1):
            x = _conv(names.conv(stage, i), x, padding, sizes)
        skips.append(x)
        if x % SCALE:
            raise SizeBreak(names.layer(stage, "pool"), x, "2x2 max-pooling with stride 2 needs an even size")
        x //= SCALE
        sizes[names.layer(stage, "pool")] = x
    for i in range(1, CONVS_PER_LEVEL + 1):
        x = _conv(names.conv(names.BOTTLENECK, i), x, padding, sizes)
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
            x = _conv(names.conv(stage, i), x, padding, sizes)
    sizes[names.layer(names.OUTPUT, "conv")] = x
    if x < 1:
        raise SizeBreak(names.layer(names.OUTPUT, "conv"), x, "the output map would be empty")
    return SideTrace(side=n, sizes=sizes, crops=crops)


def side_break(n: int, depth: int, padding: str) -> SizeBreak | None:
    """The first rule side length ``n`` breaks, or ``None`` if it is valid."""
    if n < 1:
        return SizeBreak("input", n, "a side must be at least 1 pixel")
    try:
        trace_side(n, depth, padding)
    except SizeBreak as brk:
        return brk
    return None


def is_valid_side(n: int, depth: int, padding: str) -> bool:
    """Whether the network accepts side length ``n``."""
    return side_break(n, depth, padding) is None


def valid_sides(minimum: int, maximum: int, depth: int, padding: str) -> list[int]:
    """All valid side lengths in ``[minimum, maximum]`` (clamped to ``[1, MAX_SIDE]``)."""
    lo, hi = max(1, minimum), min(MAX_SIDE, maximum)
    return [n for n in range(lo, hi + 1) if is_valid_side(n, depth, padding)]


def nearest_valid_sides(n: int, depth: int, padding: str) -> tuple[int | None, int | None]:
    """The closest valid side lengths strictly below and above ``n`` (``None`` if none)."""
    below = next((m for m in range(min(n - 1, MAX_SIDE), 0, -1) if is_valid_side(m, depth, padding)), None)
    above = next((m for m in range(max(n + 1, 1), MAX_SIDE + 1) if is_valid_side(m, depth, padding)), None)
    return below, above


def conv_params(kernel: int, c_in: int, c_out: int) -> int:
    """Weights and biases of a ``kernel`` x ``kernel`` convolution (also a transposed one)."""
    return kernel * kernel * c_in * c_out + c_out


def conv_macs(kernel: int, out_h: int, out_w: int, c_in: int, c_out: int) -> int:
    """Multiply-accumulates of a dense convolution: one kernel window per output value."""
    return out_h * out_w * kernel * kernel * c_in * c_out


def upconv_macs(out_h: int, out_w: int, c_in: int, c_out: int) -> int:
    """Multiply-accumulates of a 2x2, stride-2 up-convolution.

    The windows do not overlap, so each output pixel receives exactly one kernel
    tap per input channel.
    """
    return out_h * out_w * c_in * c_out


FLOAT32_BYTES = 4


def tensor_bytes(h: int, w: int, c: int) -> int:
    """Bytes of one float32 feature map of ``h`` x ``w`` x ``c``."""
    return h * w * c * FLOAT32_BYTES

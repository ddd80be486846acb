"""The overlap-tile strategy (paper section 2, Figure 2): segmenting an image larger than one tile.

The network labels only the centre of its input tile; the border of the tile
is context. So the output tiles are laid edge to edge over the image, and each
reads an input tile that reaches one context margin further on every side.
Where that reaches past the image, the paper mirrors the image ("the missing
context is extrapolated by mirroring the input image"). The last row and
column of output tiles may also stick out past the image; mirroring fills
those too, and the surplus output is cut away. A volume (the 3D U-Net) is tiled
the same way along its third axis too.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from unet_explain.config import format_size
from unet_explain.core import arithmetic as ar
from unet_explain.errors import ConfigError, shown

if TYPE_CHECKING:
    from unet_explain.core.spec import UNetSpec

Size = tuple[int, ...]


@dataclass(frozen=True)
class TilePlan:
    """How to cover an image with tiles of one network."""

    image_size: Size
    """The image (height, width), or the volume (height, width, depth)."""
    input_tile: Size
    """The network's input tile."""
    output_tile: Size
    """The network's output tile."""
    grid: Size
    """Tiles along the rows and along the columns (and the slices of a volume)."""
    margin: Size
    """Context pixels on each side of an output tile, per axis."""
    pad_before: Size
    """Mirrored pixels added above and to the left of the image (and in front of a volume)."""
    pad_after: Size
    """Mirrored pixels added below and to the right (and behind): margin plus what fills the last tiles."""
    macs_per_tile: int
    """Multiply-accumulates of one tile."""

    @property
    def tiles(self) -> int:
        """Number of tiles."""
        return ar.voxels(self.grid)

    @property
    def computed_size(self) -> Size:
        """Output pixels computed, per axis: the grid of output tiles."""
        return tuple(g * m for g, m in zip(self.grid, self.output_tile, strict=True))

    @property
    def padded_size(self) -> Size:
        """The mirror-padded image the input tiles are cut from."""
        return tuple(n + b + a for n, b, a in zip(self.image_size, self.pad_before, self.pad_after, strict=True))

    @property
    def useful_fraction(self) -> float:
        """Share of the computed output pixels that lie inside the image."""
        return ar.voxels(self.image_size) / ar.voxels(self.computed_size)

    @property
    def total_macs(self) -> int:
        """Multiply-accumulates for the whole image."""
        return self.tiles * self.macs_per_tile

    def input_origins(self) -> list[tuple[int, ...]]:
        """Top-left (front) corner of every input tile in the padded image, row by row."""
        return [
            tuple(i * m for i, m in zip(index, self.output_tile, strict=True))
            for index in itertools.product(*(range(g) for g in self.grid))
        ]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (a volume's plan also pads ``front`` and ``back``)."""
        pad = {
            "top": self.pad_before[0],
            "bottom": self.pad_after[0],
            "left": self.pad_before[1],
            "right": self.pad_after[1],
        }
        if len(self.grid) == 3:
            pad |= {"front": self.pad_before[2], "back": self.pad_after[2]}
        return {
            "image_size": list(self.image_size),
            "input_tile": list(self.input_tile),
            "output_tile": list(self.output_tile),
            "grid": list(self.grid),
            "tiles": self.tiles,
            "margin": list(self.margin),
            "pad": pad,
            "padded_size": list(self.padded_size),
            "computed_size": list(self.computed_size),
            "useful_fraction": round(self.useful_fraction, 6),
            "macs_per_tile": self.macs_per_tile,
            "total_macs": self.total_macs,
        }


MIN_IMAGE_SIDE = 2  # mirroring without repeating the edge pixel needs two pixels


def check_image_size(size: Any, dims: int = 2) -> Size:
    """Validate an image size: ``dims`` whole numbers (2: an image, 3: a volume) from 2 to MAX_SIDE."""
    from unet_explain.config import whole

    if isinstance(size, list):  # what UNetConfig accepts for its input size
        size = tuple(size)
    if not (isinstance(size, tuple) and len(size) in (2, 3)):
        raise ConfigError("image", f"must be (height, width) or a volume (height, width, depth); got {shown(size)}")
    size = tuple(whole(side) for side in size)
    for side in size:
        if isinstance(side, bool) or not isinstance(side, int):
            raise ConfigError("image", f"must be whole numbers; got {shown(size)}")
        if not MIN_IMAGE_SIDE <= side <= ar.MAX_SIDE:
            raise ConfigError(
                "image",
                f"sides must be between {MIN_IMAGE_SIDE} (mirroring needs two pixels) and {ar.MAX_SIDE}; "
                f"got {format_size(size)}",
            )
    if len(size) != dims:
        kind = ("an image", "a volume")[dims - 2]
        raise ConfigError(
            "image",
            f"{format_size(size)} has {len(size)} sides, but the network takes {kind} ({dims} sides): give "
            + ("--image HxWxD, or a 2D --input-size" if dims == 3 else "--image HxW, or a volume --input-size HxWxD"),
        )
    return tuple(int(side) for side in size)


def plan_tiles(image_size: Size, spec: UNetSpec) -> TilePlan:
    """Cover ``image_size`` with the tiles of ``spec``'s network, as in the paper's Figure 2."""
    n, m = spec.config.input_size, spec.totals.output_size
    image_size = check_image_size(image_size, len(n))
    margin = spec.totals.context_margin
    grid = tuple(math.ceil(i / o) for i, o in zip(image_size, m, strict=True))
    extra = tuple(g * o - i for g, o, i in zip(grid, m, image_size, strict=True))
    return TilePlan(
        image_size=image_size,
        input_tile=n,
        output_tile=m,
        grid=grid,
        margin=margin,
        pad_before=margin,
        # The input tile is one margin larger than its output tile on both sides, so the far side
        # needs the margin plus what the last output tile sticks out; any odd split of n - m goes there.
        pad_after=tuple(a - b - c + e for a, b, c, e in zip(n, m, margin, extra, strict=True)),
        macs_per_tile=spec.totals.macs,
    )

"""The overlap-tile strategy (paper section 2, Figure 2): segmenting an image larger than one tile.

The network labels only the centre of its input tile; the border of the tile
is context. So the output tiles are laid edge to edge over the image, and each
reads an input tile that reaches one context margin further on every side.
Where that reaches past the image, the paper mirrors the image ("the missing
context is extrapolated by mirroring the input image"). The last row and
column of output tiles may also stick out past the image; mirroring fills
those too, and the surplus output is cut away.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from unet_explain.config import format_size
from unet_explain.core import arithmetic as ar
from unet_explain.errors import ConfigError, shown

if TYPE_CHECKING:
    from unet_explain.core.spec import UNetSpec

Size = tuple[int, int]


@dataclass(frozen=True)
class TilePlan:
    """How to cover an image with tiles of one network."""

    image_size: Size
    """The image (height, width)."""
    input_tile: Size
    """The network's input tile."""
    output_tile: Size
    """The network's output tile."""
    grid: Size
    """Tiles along the rows and along the columns."""
    margin: Size
    """Context pixels on each side of an output tile, (rows, columns)."""
    pad_before: Size
    """Mirrored pixels added above and to the left of the image."""
    pad_after: Size
    """Mirrored pixels added below and to the right (margin plus what fills the last tiles)."""
    macs_per_tile: int
    """Multiply-accumulates of one tile."""

    @property
    def tiles(self) -> int:
        """Number of tiles."""
        return self.grid[0] * self.grid[1]

    @property
    def computed_size(self) -> Size:
        """Output pixels computed, (rows, columns): the grid of output tiles."""
        return (self.grid[0] * self.output_tile[0], self.grid[1] * self.output_tile[1])

    @property
    def padded_size(self) -> Size:
        """The mirror-padded image the input tiles are cut from."""
        return (
            self.image_size[0] + self.pad_before[0] + self.pad_after[0],
            self.image_size[1] + self.pad_before[1] + self.pad_after[1],
        )

    @property
    def useful_fraction(self) -> float:
        """Share of the computed output pixels that lie inside the image."""
        computed = self.computed_size
        return (self.image_size[0] * self.image_size[1]) / (computed[0] * computed[1])

    @property
    def total_macs(self) -> int:
        """Multiply-accumulates for the whole image."""
        return self.tiles * self.macs_per_tile

    def input_origins(self) -> list[tuple[int, int]]:
        """Top-left corner of every input tile in the padded image, row by row."""
        return [
            (r * self.output_tile[0], c * self.output_tile[1]) for r in range(self.grid[0]) for c in range(self.grid[1])
        ]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "image_size": list(self.image_size),
            "input_tile": list(self.input_tile),
            "output_tile": list(self.output_tile),
            "grid": list(self.grid),
            "tiles": self.tiles,
            "margin": list(self.margin),
            "pad": {
                "top": self.pad_before[0],
                "bottom": self.pad_after[0],
                "left": self.pad_before[1],
                "right": self.pad_after[1],
            },
            "padded_size": list(self.padded_size),
            "computed_size": list(self.computed_size),
            "useful_fraction": round(self.useful_fraction, 6),
            "macs_per_tile": self.macs_per_tile,
            "total_macs": self.total_macs,
        }


MIN_IMAGE_SIDE = 2  # mirroring without repeating the edge pixel needs two pixels


def check_image_size(size: Any) -> Size:
    """Validate an image size: two whole numbers from 2 to MAX_SIDE."""
    from unet_explain.config import whole

    if isinstance(size, list):  # what UNetConfig accepts for its input size
        size = tuple(size)
    if not (isinstance(size, tuple) and len(size) == 2):
        raise ConfigError("image", f"must be (height, width); got {shown(size)}")
    size = (whole(size[0]), whole(size[1]))
    for side in size:
        if isinstance(side, bool) or not isinstance(side, int):
            raise ConfigError("image", f"must be whole numbers; got {shown(size)}")
        if not MIN_IMAGE_SIDE <= side <= ar.MAX_SIDE:
            raise ConfigError(
                "image",
                f"sides must be between {MIN_IMAGE_SIDE} (mirroring needs two pixels) and {ar.MAX_SIDE}; "
                f"got {format_size(size)}",
            )
    return (int(size[0]), int(size[1]))


def plan_tiles(image_size: Size, spec: UNetSpec) -> TilePlan:
    """Cover ``image_size`` with the tiles of ``spec``'s network, as in the paper's Figure 2."""
    image_size = check_image_size(image_size)
    n, m = spec.config.input_size, spec.totals.output_size
    margin = spec.totals.context_margin
    grid = (math.ceil(image_size[0] / m[0]), math.ceil(image_size[1] / m[1]))
    extra = (grid[0] * m[0] - image_size[0], grid[1] * m[1] - image_size[1])
    return TilePlan(
        image_size=image_size,
        input_tile=n,
        output_tile=m,
        grid=grid,
        margin=margin,
        pad_before=margin,
        # The input tile is one margin larger than its output tile on both sides, so the far side
        # needs the margin plus what the last output tile sticks out; any odd split of n - m goes there.
        pad_after=(n[0] - m[0] - margin[0] + extra[0], n[1] - m[1] - margin[1] + extra[1]),
        macs_per_tile=spec.totals.macs,
    )

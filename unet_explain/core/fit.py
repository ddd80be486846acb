"""Which tile and batch fit a memory budget: the largest valid tile, exactly (no TensorFlow).

The paper preferred "large input tiles over a large batch size" (section 3):
the border of every tile is context that yields no output, so a bigger tile
wastes a smaller share of its compute. Given a budget, we list for batch sizes
1, 2, 4, ... the largest valid tile whose step fits, with what it gives: the
output tile, the useful fraction (output over input area), the tiles an image
needs and the multiply-accumulates per output pixel.

Choosing is exact: bytes grow with the tile, so a binary search over the valid
sides finds the largest that fits, and the next valid side does not fit.
Tiles are square (cubic for a volume): one side on every axis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from unet_explain.core import arithmetic as ar
from unet_explain.core.budget import human_bytes
from unet_explain.core.memory import MemoryUse, check_options, layer_sizes, memory_use
from unet_explain.core.spec import UNetSpec
from unet_explain.errors import ConfigError

#: Batch sizes listed without ``--tile``: powers of two up to this one, while a tile still fits.
MAX_LISTED_BATCH = 1024


@dataclass(frozen=True)
class Candidate:
    """One tile for one batch size, with its bytes and what it gives."""

    batch: int
    """Tiles per step."""
    tile: tuple[int, ...]
    """Input tile, one side per axis."""
    output_tile: tuple[int, ...]
    """Output tile, one side per axis."""
    use: MemoryUse
    """The bytes, broken down."""
    macs_per_output_pixel: int
    """Multiply-accumulates of one tile divided by its output pixels (voxels), rounded down."""
    tiles_needed: int | None = None
    """Tiles that cover the image (``None`` without an image)."""

    @property
    def useful_fraction(self) -> float:
        """Output area (volume) over input area: the share of the tile that is not context."""
        return math.prod(self.output_tile) / math.prod(self.tile)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (see the README's JSON contract for ``fit``)."""
        data: dict[str, Any] = {
            "batch": self.batch,
            "tile": list(self.tile),
            "output_tile": list(self.output_tile),
            "bytes": self.use.as_dict(),
            "useful_fraction": round(self.useful_fraction, 6),
            "macs_per_output_pixel": self.macs_per_output_pixel,
        }
        if self.tiles_needed is not None:
            data["tiles_needed"] = self.tiles_needed
        return data


@dataclass(frozen=True)
class FitAnswer:
    """What fits: the asked (or the given) tile and, when searching, the largest tile per batch size."""

    budget: int | None
    """Bytes available (``None``: a given tile without a budget)."""
    chosen: Candidate
    """The tile for the asked batch: the largest that fits, or the one given."""
    candidates: tuple[Candidate, ...]
    """Batch 1, 2, 4, ...: the largest tile that fits each (empty when a tile was given)."""
    image: tuple[int, ...] | None = None
    """The image to cover, if given."""

    @property
    def fits(self) -> bool:
        """Whether the chosen tile's step fits the budget (always, when searching)."""
        return self.budget is None or self.chosen.use.total <= self.budget

    def as_dict(self) -> dict[str, Any]:
        """The JSON contract: ``mode``, ``batch``, ``tile``, ``bytes`` and, when searching, ``candidates``."""
        use = self.chosen.use
        data: dict[str, Any] = {
            "mode": use.mode,
            "batch": use.batch,
            "tile": list(use.tile),
            "output_tile": list(self.chosen.output_tile),
            "bytes": use.as_dict(),
            "budget": self.budget,
            "fits": self.fits,
            "dtype": use.dtype,
            "optimizer": use.optimizer or None,
            "useful_fraction": round(self.chosen.useful_fraction, 6),
            "macs_per_output_pixel": self.chosen.macs_per_output_pixel,
        }
        if self.image is not None:
            data["image"] = list(self.image)
            data["tiles_needed"] = self.chosen.tiles_needed
        if self.candidates:
            data["candidates"] = [c.as_dict() for c in self.candidates]
        return data


def candidate_sides(spec: UNetSpec) -> list[int]:
    """Every valid side up to :data:`~unet_explain.core.arithmetic.MAX_SIDE`, ascending.

    Walked up from the size entering the bottom level (each level up doubles it
    and adds what its unpadded convolutions trim), so the listing is quick; the
    smallest ones are checked against the full rule, which every larger one
    then meets too (all sizes grow with the bottom size).
    """
    config = spec.config
    trim = ar.CONVS_PER_LEVEL * (ar.KERNEL - 1) if config.padding == "valid" else 0
    sides: list[int] = []
    bottom = 1
    while True:
        side = bottom
        for _ in range(config.depth):
            side = ar.SCALE * side + trim
        if side > ar.MAX_SIDE:
            return sides
        if sides or ar.is_valid_side(side, config.depth, config.padding):
            sides.append(side)
        bottom += 1


def _candidate(spec: UNetSpec, side: int, batch: int, image: tuple[int, ...] | None, **options: Any) -> Candidate:
    axes = len(spec.config.input_size)
    tile = (side,) * axes
    sizes = layer_sizes(spec, tile)
    output = sizes(spec.layers[-1].name)
    # A layer's MACs are its output pixels times a fixed cost per pixel, so they follow the tile exactly.
    macs = sum(layer.macs // math.prod(layer.out_size) * math.prod(sizes(layer.name)) for layer in spec.layers)
    tiles = math.prod(math.ceil(i / o) for i, o in zip(image, output, strict=True)) if image else None
    return Candidate(
        batch=batch,
        tile=tile,
        output_tile=output,
        use=memory_use(spec, tile=tile, batch=batch, **options),
        macs_per_output_pixel=macs // math.prod(output),
        tiles_needed=tiles,
    )


def largest_fitting(spec: UNetSpec, sides: list[int], budget: int, batch: int, **options: Any) -> int | None:
    """Index in ``sides`` of the largest side whose step fits ``budget`` (``None`` if even the smallest does not)."""

    def need(i: int) -> int:
        return memory_use(spec, tile=(sides[i],) * len(spec.config.input_size), batch=batch, **options).total

    if need(0) > budget:
        return None
    lo, hi = 0, len(sides) - 1  # need(lo) fits; find the last index that does
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if need(mid) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _check_tile(spec: UNetSpec, tile: int) -> None:
    from unet_explain.config import UNetConfig

    size = (tile,) * len(spec.config.input_size)
    try:
        UNetConfig(**(spec.config.as_dict() | {"input_size": size}))
    except ConfigError as err:
        raise ConfigError("tile", err.detail) from None


def _check_image(spec: UNetSpec, image: tuple[int, ...] | None) -> None:
    if image is None:
        return
    axes = len(spec.config.input_size)
    if len(image) != axes or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in image):
        raise ConfigError("image", f"must be {axes} positive whole numbers, one per axis; got {image!r}")


def fit(
    spec: UNetSpec,
    budget: int | None = None,
    *,
    mode: str = "train",
    batch: int = 1,
    optimizer: str = "sgd",
    dtype: str = "float32",
    tile: int | None = None,
    image: tuple[int, ...] | None = None,
) -> FitAnswer:
    """The largest valid tile whose step fits ``budget`` bytes, per batch size; or the bytes of ``tile``.

    ``spec`` gives the network (its own tile size does not matter). Raises
    :class:`ConfigError` for a budget below one byte, a bad option, a tile the
    network cannot take, or a budget that fits no valid tile (naming what the
    smallest tile needs).
    """
    check_options(mode, batch, optimizer, dtype)
    _check_image(spec, image)
    options = {"mode": mode, "optimizer": optimizer, "dtype": dtype}
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int) or budget < 1):
        raise ConfigError("memory", f"must be a positive number of bytes, such as 11GiB; got {budget!r}")
    if tile is not None:
        _check_tile(spec, tile)
        return FitAnswer(budget, _candidate(spec, tile, batch, image, **options), (), image)
    if budget is None:
        raise ConfigError("memory", "is needed to choose a tile (or give --tile to see the bytes of one)")
    sides = candidate_sides(spec)
    found = largest_fitting(spec, sides, budget, batch, **options)
    if found is None:
        smallest = _candidate(spec, sides[0], batch, None, **options)
        what = "a training step" if mode == "train" else "inference"
        shape = "x".join(map(str, smallest.tile))
        raise ConfigError(
            "memory",
            f"{human_bytes(budget)} fits no valid tile: the smallest, {shape}, needs {smallest.use.total:,} bytes "
            f"({human_bytes(smallest.use.total)}) for {what} with batch {batch} ({dtype}); raise --memory to at "
            f"least {math.ceil(smallest.use.total / 2**20)}MiB"
            + (" or lower --batch" if batch > 1 else "")
            + (" or try --dtype mixed" if dtype == "float32" else ""),
        )
    chosen = _candidate(spec, sides[found], batch, image, **options)
    candidates = []
    size = 1
    while size <= MAX_LISTED_BATCH:
        index = largest_fitting(spec, sides[: found + 1] if size >= batch else sides, budget, size, **options)
        if index is None:
            break
        candidates.append(_candidate(spec, sides[index], size, image, **options))
        size *= 2
    return FitAnswer(budget, chosen, tuple(candidates), image)

"""Which input tile sizes the network accepts (paper section 2), and what they give.

The paper: "select the input tile size such that all 2x2 max-pooling operations
are applied to a layer with an even x- and y-size". Together with whole,
non-negative crops and an output of at least one pixel, that rule is checked by
tracing each candidate through :func:`~unet_explain.core.arithmetic.trace_side`;
no formula is assumed, so the listing stays right for any depth and padding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from unet_explain.core import arithmetic as ar
from unet_explain.core import names
from unet_explain.errors import ConfigError, shown


@dataclass(frozen=True)
class ValidSize:
    """One valid side length and what it gives."""

    input: int
    """Side of the input tile."""
    output: int
    """Side of the output map."""
    bottleneck: int
    """Side of the map entering the bottleneck."""
    margin: int
    """Context pixels lost on each border: (input - output) / 2 (92 for the paper)."""


@dataclass(frozen=True)
class ValidSizes:
    """The valid sides in a range for one depth and padding."""

    minimum: int
    """Smallest side considered."""
    maximum: int
    """Largest side considered."""
    depth: int
    """Number of poolings."""
    padding: str
    """"valid" or "same"."""
    rows: tuple[ValidSize, ...]
    """Every valid side in the range, ascending."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "min": self.minimum,
            "max": self.maximum,
            "depth": self.depth,
            "padding": self.padding,
            "sizes": [
                {"input": r.input, "output": r.output, "margin": r.margin, "bottleneck": r.bottleneck}
                for r in self.rows
            ],
        }


def valid_sizes(minimum: int, maximum: int, *, depth: int = 4, padding: str = "valid") -> list[int]:
    """Valid side lengths in ``[minimum, maximum]``: ``valid_sizes(540, 604) == [540, 556, 572, 588, 604]``."""
    from unet_explain.config import UNetConfig, validate_settings, whole

    minimum, maximum, depth = whole(minimum), whole(maximum), whole(depth)
    defaults = UNetConfig()
    validate_settings(depth, defaults.in_channels, defaults.num_classes, defaults.base_filters, padding)
    for argument, value in (("min", minimum), ("max", maximum)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(argument, f"must be a whole number; got {shown(value)}")
    return ar.valid_sides(minimum, maximum, depth, padding)


def valid_size_table(minimum: int, maximum: int, *, depth: int = 4, padding: str = "valid") -> ValidSizes:
    """Valid sides in a range for a depth and padding, with output sizes."""
    from unet_explain.config import UNetConfig, validate_settings

    defaults = UNetConfig()
    validate_settings(depth, defaults.in_channels, defaults.num_classes, defaults.base_filters, padding)
    for argument, value in (("min", minimum), ("max", maximum)):
        if not 1 <= value <= ar.MAX_SIDE:
            raise ConfigError(argument, f"must be between 1 and {ar.MAX_SIDE}; got {value}")
    if minimum > maximum:
        raise ConfigError("max", f"must not be below --min ({minimum}); got {maximum}")
    rows = []
    for n in valid_sizes(minimum, maximum, depth=depth, padding=padding):
        trace = ar.trace_side(n, depth, padding)
        entering = trace.sizes[names.layer(names.encoder(depth), "pool")]
        rows.append(ValidSize(input=n, output=trace.output, bottleneck=entering, margin=trace.margin))
    return ValidSizes(minimum, maximum, depth, padding, tuple(rows))


@dataclass(frozen=True)
class AxisCheck:
    """One axis of a given input size: whether the network accepts it, and the nearest valid sides."""

    axis: str
    """``rows``, ``columns`` or (a volume's third axis) ``slices``."""
    side: int
    """The side given along this axis."""
    valid: bool
    """Whether the network accepts it."""
    below: int | None
    """The nearest valid side below (``None`` if there is none)."""
    above: int | None
    """The nearest valid side above (``None`` if there is none)."""
    output: int | None
    """The output side, for a valid side."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "axis": self.axis,
            "side": self.side,
            "valid": self.valid,
            "nearest": [self.below, self.above],
            "output": self.output,
        }


def check_axes(size: tuple[int, ...], *, depth: int = 4, padding: str = "valid") -> tuple[AxisCheck, ...]:
    """Each axis of ``size`` checked on its own: the rules hold per axis, so 572x572x60 may fail on one axis only."""
    from unet_explain.config import axis_names

    checks = []
    for axis, side in zip(axis_names(len(size)), size, strict=True):
        valid = ar.is_valid_side(side, depth, padding)
        below, above = ar.nearest_valid_sides(side, depth, padding)
        output = ar.trace_side(side, depth, padding).output if valid else None
        checks.append(AxisCheck(axis, side, valid, below, above, output))
    return tuple(checks)

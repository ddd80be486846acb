"""The network's configuration: one frozen dataclass, validated in one place.

The defaults are the network of the paper's Figure 1: a 572x572 single-channel
input tile, 2 classes, 4 poolings, 64 filters in the first level, and unpadded
("valid") convolutions.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Literal

from unet_explain.core import arithmetic
from unet_explain.errors import ConfigError

Padding = Literal["valid", "same"]
Size = tuple[int, int]

MAX_DEPTH = 6
MAX_CHANNELS = 4096

# One rule for every whole number a user types, on the command line and in the explorer page: the ASCII
# digits 0-9 (an optional sign for a count), nothing else. Python's int() would also take "1_0" and the digits
# of other scripts ("٥٧٢", "５７２"); JavaScript's parsers do not, and a typo should not pass silently.
_SIZE_RE = re.compile(r"^\s*([0-9]+)\s*(?:[xX×]\s*([0-9]+)\s*)?$")
_WHOLE_RE = re.compile(r"^\s*([+-]?[0-9]+)\s*$")
WHOLE_RULE = "must be a whole number written with the digits 0-9, like 4"
"""What :func:`parse_whole` says when it refuses a value."""


@dataclass(frozen=True)
class UNetConfig:
    """A U-Net configuration; the defaults are the paper's network."""

    input_size: Size = (572, 572)
    """Input tile (height, width) in pixels; an int means a square tile."""
    in_channels: int = 1
    """Channels of the input image (1 for the paper's grey-scale microscopy)."""
    num_classes: int = 2
    """Classes of the output map (2 in Figure 1: cell and background)."""
    depth: int = 4
    """Number of 2x2 max-poolings, i.e. contracting levels below the first."""
    base_filters: int = 64
    """Filters of the first level; they double at every level down."""
    padding: Padding = "valid"
    """"valid" (the paper: no padding, crops) or "same" (zero padding, no crops)."""

    def __post_init__(self) -> None:
        size: Any = self.input_size
        if isinstance(size, list):
            object.__setattr__(self, "input_size", tuple(size))
        elif not isinstance(size, tuple):
            object.__setattr__(self, "input_size", (size, size))  # one number: a square tile
        validate(self)

    @property
    def output_size(self) -> Size:
        """Size of the output map, from the arithmetic."""
        h, w = self.input_size
        return (
            arithmetic.trace_side(h, self.depth, self.padding).output,
            arithmetic.trace_side(w, self.depth, self.padding).output,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, ``input_size`` as ``[H, W]``."""
        data = asdict(self)
        data["input_size"] = list(self.input_size)
        return data

    def describe(self) -> str:
        """One line naming every setting."""
        h, w = self.input_size
        return (
            f"input {h}x{w}x{self.in_channels}, {self.num_classes} class{'es' * (self.num_classes != 1)}, "
            f"depth {self.depth}, {self.base_filters} base filter{'s' * (self.base_filters != 1)}, "
            f"padding {self.padding}"
        )


def format_size(size: Size) -> str:
    """``(572, 572)`` -> ``"572x572"``."""
    return f"{size[0]}x{size[1]}"


def format_size_arg(size: Size) -> str:
    """A size as a user would type it: ``"572"`` for a square, ``"572x636"`` otherwise."""
    return str(size[0]) if size[0] == size[1] else format_size(size)


def parse_size(text: str, argument: str = "input_size") -> Size:
    """Parse ``"572"`` or ``"572x636"`` (height x width) into a size."""
    match = _SIZE_RE.match(text)
    if not match:
        raise ConfigError(argument, f"must be a positive whole number like 572, or HxW like 572x636; got {text!r}")
    h = int(match.group(1))
    w = int(match.group(2)) if match.group(2) is not None else h
    return (h, w)


def parse_whole(text: str, argument: str) -> int:
    """A whole number as a user types it (``"4"``, ``" -3 "``): ASCII digits only, no ``_``, no other scripts."""
    match = _WHOLE_RE.match(text)
    if not match:
        raise ConfigError(argument, f"{WHOLE_RULE}; got {text!r}")
    return int(match.group(1))


def _check_int(argument: str, value: Any, low: int, high: int, why: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(argument, f"must be a whole number; got {value!r}")
    if not low <= value <= high:
        raise ConfigError(argument, f"must be between {low} and {high}{why}; got {value}")


def _nearest_hint(n: int, depth: int, padding: str, axis: str) -> str:
    below, above = arithmetic.nearest_valid_sides(n, depth, padding)
    found = [str(m) for m in (below, above) if m is not None]
    what = f"valid {axis} sizes" if axis else "valid sizes"
    if not found:
        return f"no {what} exist below {arithmetic.MAX_SIDE}"
    if below is None:
        return f"the smallest {what[:-1]} is {above}"
    return f"nearest {what}: {', '.join(found)}"


def validate_settings(depth: Any, in_channels: Any, num_classes: Any, base_filters: Any, padding: Any) -> None:
    """Check every field but the input size; raise :class:`ConfigError` naming the first that breaks a rule."""
    _check_int("depth", depth, 1, MAX_DEPTH)
    _check_int("in_channels", in_channels, 1, MAX_CHANNELS)
    _check_int("num_classes", num_classes, 2, MAX_CHANNELS, " (a softmax over one class is always 1)")
    _check_int("base_filters", base_filters, 1, MAX_CHANNELS)
    if padding not in arithmetic.PADDINGS:
        raise ConfigError("padding", f"must be 'valid' (the paper) or 'same'; got {padding!r}")


def validate_input_size(size: Any, depth: int, padding: str) -> None:
    """Check an input size against the network's rules (depth and padding already valid).

    For a size the network cannot take, the message names the layer where it
    breaks and the nearest valid sizes below and above.
    """
    if not (isinstance(size, tuple) and len(size) == 2):
        raise ConfigError("input_size", f"must be one side or (height, width); got {size!r}")
    for side in size:
        _check_int("input_size", side, 1, arithmetic.MAX_SIDE, " pixels per side")
    square = size[0] == size[1]
    problems = []  # every axis that breaks, so a size wrong both ways is not fixed one axis at a time
    for axis, side in zip(("rows", "columns"), size[:1] if square else size, strict=False):
        brk = arithmetic.side_break(side, depth, padding)
        if brk is None:
            continue
        where = "" if square else f"along the {axis}, "
        hint = _nearest_hint(side, depth, padding, "" if square else axis[:-1])
        problems.append(f"{where}{brk.layer} receives {brk.size} pixels, but {brk.rule}; {hint}")
    if problems:
        raise ConfigError(
            "input_size",
            f"{format_size_arg(size)} is not valid for depth {depth} with padding {padding!r}: " + "; ".join(problems),
        )


def validate(config: UNetConfig) -> None:
    """Check every field of ``config``: the one place where configuration rules live."""
    validate_settings(config.depth, config.in_channels, config.num_classes, config.base_filters, config.padding)
    validate_input_size(config.input_size, config.depth, config.padding)

"""The network's configuration: one frozen dataclass, validated in one place.

The defaults are the network of the paper's Figure 1: a 572x572 single-channel
input tile, 2 classes, 4 poolings, 64 filters in the first level, and unpadded
("valid") convolutions.

A size of three numbers (``132x132x116``) is a volume: the network becomes the
3D U-Net of Cicek et al. (2016), with the same rules along each of the three
axes. :func:`preset` names the two papers' networks (``unet``, ``3d-unet``).
"""

from __future__ import annotations

import numbers
import re
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from unet_explain.core import arithmetic
from unet_explain.errors import ConfigError, shown

Padding = Literal["valid", "same"]
Size = tuple[int, ...]
"""A spatial size: (rows, columns) for an image, (rows, columns, slices) for a volume."""


class EveryAxis(tuple):  # type: ignore[type-arg]
    """A size typed as one number (``572``): that side on every axis of the network it is given to.

    It holds the number twice, a square, until a volume network asks for a cube (:func:`on_axes`)."""


def on_axes(size: Size, dims: int) -> Size:
    """``size`` on a network with ``dims`` axes: one typed number becomes that side on every axis."""
    return (size[0],) * dims if isinstance(size, EveryAxis) else size


#: How the channels grow: Ronneberger et al. double them from one level to the next, both
#: convolutions of a level alike, and halve them in each up-convolution; Cicek et al. (3D U-Net)
#: double them in the second convolution of a level, before the pooling, and keep the count
#: in each up-convolution.
CHANNEL_SCHEDULES = arithmetic.CHANNEL_SCHEDULES
#: Normalisation between each 3x3 convolution and its ReLU: none (2D paper) or batch (3D paper).
NORMS = (None, "batch")

MAX_DEPTH = 6
MAX_CHANNELS = 4096

# One rule for every whole number a user types, on the command line and in the explorer page: the ASCII
# digits 0-9 (an optional sign for a count), nothing else. Python's int() would also take "1_0" and the digits
# of other scripts ("٥٧٢", "５７２"); JavaScript's parsers do not, and a typo should not pass silently.
_WHOLE_RE = re.compile(r"^\s*([+-]?[0-9]{1,18})\s*$")  # 18 digits: more is no network, and int() stays cheap
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
    channel_schedule: str = "double_per_level"
    """"double_per_level" (the 2D paper) or "double_before_pool" (the 3D U-Net); see CHANNEL_SCHEDULES."""
    norm: str | None = None
    """None (the 2D paper) or "batch": batch normalisation before each ReLU of the 3x3 convolutions (3D U-Net)."""

    def __post_init__(self) -> None:
        for field in fields(self):  # what a NumPy user passes: np.int64(572) is a whole number
            object.__setattr__(self, field.name, whole(getattr(self, field.name)))
        size: Any = self.input_size
        if isinstance(size, (list, tuple)):
            object.__setattr__(self, "input_size", tuple(whole(side) for side in size))
        else:
            object.__setattr__(self, "input_size", (size, size))  # one number: a square tile
        validate(self)

    @property
    def dims(self) -> int:
        """Spatial axes: 2 for an image, 3 for a volume."""
        return len(self.input_size)

    @property
    def output_size(self) -> Size:
        """Size of the output map, from the arithmetic."""
        return tuple(arithmetic.trace_side(n, self.depth, self.padding).output for n in self.input_size)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, ``input_size`` as ``[H, W]`` (``[H, W, D]`` for a volume).

        ``channel_schedule`` and ``norm`` appear only when they differ from the 2D
        paper's values, so the JSON of every 2D network stays as it was.
        """
        data = asdict(self)
        data["input_size"] = list(self.input_size)
        for name in _LATER_FIELDS:
            if data[name] == _DEFAULTS[name]:
                del data[name]
        return data

    def describe(self) -> str:
        """One line naming every setting."""
        line = (
            f"input {format_size(self.input_size)}x{self.in_channels}, "
            f"{self.num_classes} class{'es' * (self.num_classes != 1)}, "
            f"depth {self.depth}, {self.base_filters} base filter{'s' * (self.base_filters != 1)}, "
            f"padding {self.padding}"
        )
        if self.channel_schedule != _DEFAULTS["channel_schedule"]:
            line += f", channels {self.channel_schedule.replace('_', ' ')}"
        if self.norm is not None:
            line += f", {self.norm} norm"
        return line


#: Fields added after the JSON contract was fixed: written only when not at their default.
_LATER_FIELDS = ("channel_schedule", "norm")
_DEFAULTS: dict[str, Any] = {"channel_schedule": "double_per_level", "norm": None}

#: Names of the axes, for messages: an image has rows and columns, a volume also slices.
AXIS_NAMES = ("rows", "columns", "slices")


def axis_names(dims: int) -> tuple[str, ...]:
    """``("rows", "columns")`` for an image, ``("rows", "columns", "slices")`` for a volume."""
    return AXIS_NAMES[:dims]


def format_size(size: Size) -> str:
    """``(572, 572)`` -> ``"572x572"``; ``(132, 132, 116)`` -> ``"132x132x116"``."""
    return "x".join(str(n) for n in size)


def format_size_arg(size: Size) -> str:
    """A size as a user would type it: ``"572"`` for a square, ``"572x636"`` or a volume's three numbers otherwise."""
    return str(size[0]) if len(size) == 2 and size[0] == size[1] else format_size(size)


def parse_size(text: str, argument: str = "input_size") -> Size:
    """Parse ``"572"``, ``"572x636"`` (height x width) or ``"132x132x116"`` (a volume) into a size."""
    parts = re.split(r"\s*[xX×]\s*", text.strip())
    if not all(re.fullmatch(r"[0-9]+", part) for part in parts):
        raise ConfigError(
            argument,
            f"must be a positive whole number like 572, or HxW like 572x636; got {shown(text)}",
        )
    if max(len(part) for part in parts) > 18:  # int() of 5,000 digits would fail
        raise ConfigError(argument, f"must be between 1 and {arithmetic.MAX_SIDE} pixels per side; got {shown(text)}")
    if len(parts) > 3:
        raise ConfigError(
            argument,
            f"has {len(parts)} numbers ({shown(text.strip())}), but a size has 1 or 2 (an image) or 3 (a volume); "
            f"drop the extra numbers (the channels are set with --in-channels)",
        )
    sides = tuple(int(part) for part in parts)
    return EveryAxis((sides[0], sides[0])) if len(sides) == 1 else sides


def parse_whole(text: str, argument: str) -> int:
    """A whole number as a user types it (``"4"``, ``" -3 "``): ASCII digits only, no ``_``, no other scripts."""
    match = _WHOLE_RE.match(text)
    if not match:
        raise ConfigError(argument, f"{WHOLE_RULE}; got {shown(text)}")
    return int(match.group(1))


def whole(value: Any) -> Any:
    """A NumPy (or any registered) integer as a Python int; anything else unchanged, for the checks to judge."""
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, int)) and type(value).__name__ != "bool_":
        return int(value)
    return value


def _check_int(argument: str, value: Any, low: int, high: int, why: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(argument, f"must be a whole number; got {shown(value)}")
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


def validate_settings(
    depth: Any,
    in_channels: Any,
    num_classes: Any,
    base_filters: Any,
    padding: Any,
    channel_schedule: Any = "double_per_level",
    norm: Any = None,
) -> None:
    """Check every field but the input size; raise :class:`ConfigError` naming the first that breaks a rule."""
    _check_int("depth", depth, 1, MAX_DEPTH)
    _check_int("in_channels", in_channels, 1, MAX_CHANNELS)
    _check_int("num_classes", num_classes, 2, MAX_CHANNELS, " (a softmax over one class is always 1)")
    _check_int("base_filters", base_filters, 1, MAX_CHANNELS)
    if padding not in arithmetic.PADDINGS:
        raise ConfigError("padding", f"must be 'valid' (the paper) or 'same'; got {shown(padding)}")
    if channel_schedule not in CHANNEL_SCHEDULES:
        raise ConfigError(
            "channel_schedule",
            "must be 'double_per_level' (the 2D paper) or 'double_before_pool' (the 3D U-Net); "
            f"got {shown(channel_schedule)}",
        )
    if norm not in NORMS:
        raise ConfigError("norm", f"must be None (the 2D paper) or 'batch' (the 3D U-Net); got {shown(norm)}")


def validate_input_size(size: Any, depth: int, padding: str) -> None:
    """Check an input size against the network's rules (depth and padding already valid).

    For a size the network cannot take, the message names the axis and the layer
    where it breaks, and the nearest valid sizes below and above along that axis.
    """
    if not (isinstance(size, tuple) and len(size) in (2, 3)):
        raise ConfigError(
            "input_size", f"must be one side, (height, width) or a volume (height, width, depth); got {shown(size)}"
        )
    for side in size:
        _check_int("input_size", side, 1, arithmetic.MAX_SIDE, " pixels per side")
    same = len(set(size)) == 1
    axes = axis_names(len(size))
    unit = "voxels" if len(size) == 3 else "pixels"
    problems = []  # every axis that breaks, so a size wrong both ways is not fixed one axis at a time
    broken = []
    for axis, side in zip(axes, size[:1] if same else size, strict=False):
        brk = arithmetic.side_break(side, depth, padding, dims=len(size))
        if brk is None:
            continue
        broken.append((axis, side, brk))
        where = "" if same else f"along the {axis}, "
        hint = _nearest_hint(side, depth, padding, "" if same else axis[:-1])
        problems.append(f"{where}{brk.layer} receives {brk.size} {unit}, but {brk.rule}; {hint}")
    if not problems:
        return
    # A volume wrong the same way on several axes: one clause naming the axes once.
    kinds = {(b.layer, b.rule, arithmetic.nearest_valid_sides(side, depth, padding)) for _, side, b in broken}
    if len(size) == 3 and len(broken) > 1 and len(kinds) == 1:
        names = [axis for axis, _, _ in broken]
        counts = [str(b.size) for _, _, b in broken]
        layer, rule = broken[0][2].layer, broken[0][2].rule
        hint = _nearest_hint(broken[0][1], depth, padding, "")
        problems = [
            f"along the {_and(names)}, {layer} receives {_and(counts)} {unit}, but {rule}; {hint} on each of them"
        ]
    at_3d_depth = all(arithmetic.is_valid_side(n, VOLUME_DEPTH, padding) for n in size)
    if len(size) == 3 and depth != VOLUME_DEPTH and at_3d_depth:
        problems.append(VOLUME_HINT.format(depth=VOLUME_DEPTH))
    raise ConfigError(
        "input_size",
        f"{format_size_arg(size)} is not valid for depth {depth} with padding {padding!r}: " + "; ".join(problems),
    )


def _and(items: list[str]) -> str:
    """``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


#: The 3D U-Net's number of poolings (Cicek et al. 2016), named in the hint for a volume.
VOLUME_DEPTH = 3
#: Said of a volume that breaks the rules at its depth but not at the 3D U-Net's.
VOLUME_HINT = "with depth {depth} (the 3D U-Net: --preset 3d-unet) it is valid"


def in_plane(config: UNetConfig) -> UNetConfig:
    """A volume's network on its rows and columns only (the 2D network of one plane); an image's config as it is.

    The layers act on each axis alike, so every size, crop and field of the plane is the volume's own
    along its rows and columns: the 2D teaching figures draw this for a volume.
    """
    if config.dims == 2:
        return config
    return UNetConfig(**(config.as_dict() | {"input_size": tuple(config.input_size[:2])}))


PRESETS: dict[str, dict[str, Any]] = {
    "unet": {},
    "3d-unet": {
        "input_size": (132, 132, 116),
        "in_channels": 3,
        "num_classes": 3,
        "depth": 3,
        "base_filters": 32,
        "padding": "valid",
        "channel_schedule": "double_before_pool",
        "norm": "batch",
    },
}
"""The papers' networks by name: ``unet`` (Ronneberger et al. 2015, Figure 1) and
``3d-unet`` (Cicek et al. 2016: 132x132x116x3 in, 3 labels, 3 poolings, 32 filters
doubled before each pooling, batch normalisation before each ReLU)."""


def preset(name: str, **overrides: Any) -> UNetConfig:
    """The config of a named paper network, with any field overridden: ``preset("3d-unet", depth=2)``.

    One number for ``input_size`` is that side on every axis of the preset's network: a square for
    ``unet``, a cube for ``3d-unet`` (``preset("3d-unet", input_size=92)`` is 92x92x92)."""
    if name not in PRESETS:
        raise ConfigError("preset", f"must be one of {', '.join(PRESETS)}; got {name!r}")
    settings = PRESETS[name] | overrides
    size = overrides.get("input_size")
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        size = EveryAxis((size, size))
    if isinstance(size, EveryAxis):
        settings["input_size"] = on_axes(size, len(PRESETS[name].get("input_size", UNetConfig.input_size)))
    return UNetConfig(**settings)


def validate(config: UNetConfig) -> None:
    """Check every field of ``config``: the one place where configuration rules live."""
    validate_settings(
        config.depth,
        config.in_channels,
        config.num_classes,
        config.base_filters,
        config.padding,
        config.channel_schedule,
        config.norm,
    )
    validate_input_size(config.input_size, config.depth, config.padding)

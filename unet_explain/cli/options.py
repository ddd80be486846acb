"""The flags several commands share, their value checks, and the helper that adds a command.

Like pip's ``cmdoptions``: a flag defined once here reads the same in every
command that takes it. The docs use :func:`add_config_flags` and
:func:`config_from_args` to read a page's ``--input-size 188 --depth 3``
exactly as the command line would.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from typing import Any

from unet_explain.config import (
    CHANNEL_SCHEDULES,
    PRESETS,
    UNetConfig,
    format_size_arg,
    parse_size,
    parse_whole,
    preset,
)
from unet_explain.errors import ConfigError, shown

PROG = "unet-explain"

Handler = Callable[[argparse.Namespace], int]
"""A command: the parsed arguments in, the exit status out."""

CONFIG_FIELDS = (
    "input_size", "in_channels", "num_classes", "depth", "base_filters", "padding", "channel_schedule", "norm",
)  # fmt: skip

NO_NORM = "none"
"""``--norm none``: the value that means no normalisation (the config's ``None``)."""


def add_command(sub: Any, name: str, handler: Handler, help: str, config: bool = True) -> argparse.ArgumentParser:
    """Add command ``name`` to the subparsers ``sub``; with ``config``, it takes the network's flags."""
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
    parser.set_defaults(handler=handler)
    if config:
        add_config_flags(parser)
    return parser


def real_arg(text: str) -> float:
    """A real number as typed (the library checks its range)."""
    try:
        if len(text) > 100:
            raise ValueError
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number such as 10 or 0.5; got {shown(text)}") from None


def size_arg(text: str) -> tuple[int, ...]:
    """``572`` or ``572x636`` as (height, width); ``132x132x116`` as a volume."""
    try:
        return parse_size(text)
    except ConfigError as err:
        raise argparse.ArgumentTypeError(err.detail) from None


def whole_arg(text: str) -> int:
    """A whole number written with the ASCII digits 0-9 (the explorer page reads the same rule)."""
    try:
        return parse_whole(text, "value")
    except ConfigError as err:
        raise argparse.ArgumentTypeError(err.detail) from None


def _whole_or_none(text: str) -> int | None:
    try:
        return parse_whole(text, "value")
    except ConfigError:
        return None


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """The six flags that select a network; unset ones keep the paper's values."""
    group = parser.add_argument_group("network configuration (defaults: the paper's network)")
    group.add_argument(
        "--preset",
        choices=tuple(PRESETS),
        help="a paper's network: unet (2D, Ronneberger et al. 2015; the default) or 3d-unet (Cicek et al. 2016); "
        "the other flags override it",
    )
    group.add_argument(
        "--input-size",
        type=size_arg,
        metavar="N|HxW|HxWxD",
        help="input tile, e.g. 572 or 572x636, or a volume 132x132x116; one number is that side on every axis, "
        "a cube with --preset 3d-unet (default 572)",
    )
    group.add_argument("--in-channels", type=whole_arg, metavar="C", help="input channels (default 1)")
    group.add_argument("--num-classes", type=whole_arg, metavar="K", help="output classes (default 2)")
    group.add_argument("--depth", type=whole_arg, metavar="D", help="number of 2x2 poolings (default 4)")
    group.add_argument("--base-filters", type=whole_arg, metavar="F", help="filters of the first level (default 64)")
    group.add_argument(
        "--padding", metavar="valid|same", help="'valid' (the paper, with crops) or 'same' (default valid)"
    )
    group.add_argument(
        "--channel-schedule",
        choices=CHANNEL_SCHEDULES,
        help="double the channels per level (2D paper, default) or before each pooling (3D U-Net)",
    )
    group.add_argument(
        "--norm", choices=(NO_NORM, "batch"), help="batch normalisation before each ReLU (3D U-Net) or none (default)"
    )


def given_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The configuration flags the user gave, by field name (``--norm none`` as ``norm=None``)."""
    given = {name: getattr(args, name) for name in CONFIG_FIELDS if getattr(args, name, None) is not None}
    if given.get("norm") == NO_NORM:
        given["norm"] = None
    return given


def preset_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The preset's settings (``--preset``, the 2D paper's when not given), overridden by the flags given."""
    defaults = {f.name: f.default for f in dataclasses.fields(UNetConfig)}
    return {**defaults, **PRESETS[getattr(args, "preset", None) or "unet"], **given_settings(args)}


def config_from_args(args: argparse.Namespace) -> UNetConfig:
    """The config the flags ask for; unset flags keep the preset's values (the 2D paper's without ``--preset``)."""
    given = given_settings(args)
    name = getattr(args, "preset", None) or "unet"
    try:
        return preset(name, **given)
    except ConfigError as err:
        if err.argument != "input_size" or "input_size" in given:
            raise
        # The user changed depth or padding but not the tile: say the size is the preset's default.
        size = format_size_arg(preset(name).input_size)
        what = "the default tile" if name == "unet" else f"the {name} preset's tile"
        raise ConfigError("input_size", f"{err.detail}; {size} is {what}, pass --input-size") from None


def port_arg(text: str) -> int:
    """A TCP port, 1 to 65535."""
    port = _whole_or_none(text)
    if port is None or not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535; got {shown(text)}")
    return port


def channels_arg(text: str) -> int:
    """A number of channels, 1 to 65536."""
    channels = _whole_or_none(text)
    if channels is None or not 1 <= channels <= 65536:
        raise argparse.ArgumentTypeError(f"must be a whole number of channels from 1 to 65536; got {shown(text)}")
    return channels


def image_arg(text: str) -> tuple[int, ...]:
    """An image size, ``HxW``, or a volume's, ``HxWxD``."""
    try:
        return parse_size(text, "image")
    except ConfigError as err:
        raise argparse.ArgumentTypeError(err.detail) from None


def memory_arg(text: str) -> int:
    """``16GiB`` as bytes."""
    from unet_explain.core.budget import parse_bytes

    try:
        return parse_bytes(text)
    except ConfigError as err:
        raise argparse.ArgumentTypeError(err.detail) from None


def add_memory_flag(parser: argparse.ArgumentParser) -> None:
    """``--max-memory``, for the commands that build a Keras model."""
    parser.add_argument(
        "--max-memory",
        type=memory_arg,
        metavar="SIZE",
        help="refuse a model whose weights need more than SIZE, e.g. 16GiB (default 4GiB), before building it",
    )


def keras_config(args: argparse.Namespace, models: int = 1, what: str = "") -> UNetConfig:
    """The config, once building its ``models`` Keras models fits the memory budget (checked before TensorFlow)."""
    from unet_explain.core.budget import check_memory

    config = config_from_args(args)
    check_memory(config, args.max_memory, models=models, what=what)
    return config

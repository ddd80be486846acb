"""The flags several commands share, their value checks, and the helper that adds a command.

Like pip's ``cmdoptions``: a flag defined once here reads the same in every
command that takes it. The docs use :func:`add_config_flags` and
:func:`config_from_args` to read a page's ``--input-size 188 --depth 3``
exactly as the command line would.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from unet_explain.config import UNetConfig, format_size_arg, parse_size, parse_whole
from unet_explain.errors import ConfigError

PROG = "unet-explain"

Handler = Callable[[argparse.Namespace], int]
"""A command: the parsed arguments in, the exit status out."""

CONFIG_FIELDS = ("input_size", "in_channels", "num_classes", "depth", "base_filters", "padding")


def add_command(sub: Any, name: str, handler: Handler, help: str, config: bool = True) -> argparse.ArgumentParser:
    """Add command ``name`` to the subparsers ``sub``; with ``config``, it takes the network's flags."""
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
    parser.set_defaults(handler=handler)
    if config:
        add_config_flags(parser)
    return parser


def size_arg(text: str) -> tuple[int, int]:
    """``572`` or ``572x636`` as (height, width)."""
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
        "--input-size", type=size_arg, metavar="N|HxW", help="input tile, e.g. 572 or 572x636 (default 572)"
    )
    group.add_argument("--in-channels", type=whole_arg, metavar="C", help="input channels (default 1)")
    group.add_argument("--num-classes", type=whole_arg, metavar="K", help="output classes (default 2)")
    group.add_argument("--depth", type=whole_arg, metavar="D", help="number of 2x2 poolings (default 4)")
    group.add_argument("--base-filters", type=whole_arg, metavar="F", help="filters of the first level (default 64)")
    group.add_argument(
        "--padding", metavar="valid|same", help="'valid' (the paper, with crops) or 'same' (default valid)"
    )


def given_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The configuration flags the user gave, by field name."""
    return {name: getattr(args, name) for name in CONFIG_FIELDS if getattr(args, name, None) is not None}


def config_from_args(args: argparse.Namespace) -> UNetConfig:
    """The config the flags ask for; unset flags keep the paper's values."""
    given = given_settings(args)
    try:
        return UNetConfig(**given)
    except ConfigError as err:
        if err.argument != "input_size" or "input_size" in given:
            raise
        # The user changed depth or padding but not the tile: say the size is the paper's default.
        size = format_size_arg(UNetConfig().input_size)
        raise ConfigError("input_size", f"{err.detail}; {size} is the default tile, pass --input-size") from None


def port_arg(text: str) -> int:
    """A TCP port, 1 to 65535."""
    port = _whole_or_none(text)
    if port is None or not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535; got {text!r}")
    return port


def channels_arg(text: str) -> int:
    """A number of channels, 1 to 65536."""
    channels = _whole_or_none(text)
    if channels is None or not 1 <= channels <= 65536:
        raise argparse.ArgumentTypeError(f"must be a whole number of channels from 1 to 65536; got {text!r}")
    return channels


def image_arg(text: str) -> tuple[int, int]:
    """An image size, ``HxW``."""
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


def keras_config(args: argparse.Namespace) -> UNetConfig:
    """The config, after checking that building its Keras model fits the memory budget (before TensorFlow)."""
    from unet_explain.core.budget import check_memory

    config = config_from_args(args)
    check_memory(config, args.max_memory)
    return config

"""``unet-explain fit``: which tile and batch fit a memory budget, for training or inference (no TensorFlow)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from unet_explain.cli.options import (
    add_command,
    config_from_args,
    given_settings,
    image_arg,
    memory_arg,
    preset_settings,
    whole_arg,
)
from unet_explain.config import UNetConfig, on_axes

NAMES = ("fit",)
"""The command(s) :func:`register` adds."""


def cmd_fit(args: argparse.Namespace) -> int:
    from unet_explain.core.fit import fit
    from unet_explain.core.spec import build_spec

    network = _network(args)
    answer = fit(
        build_spec(network),
        args.memory,
        mode=args.mode,
        batch=args.batch,
        optimizer=args.optimizer,
        dtype=args.dtype,
        tile=args.tile,
        image=None if args.image is None else on_axes(args.image, network.dims),
    )
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(answer.as_dict(), indent=2) + "\n")
    else:
        from unet_explain.render.fit_report import fit_text

        sys.stdout.write(fit_text(answer))
    return 0


def _network(args: argparse.Namespace) -> UNetConfig:
    """The network whose tiles ``fit`` weighs. ``fit`` chooses the tile itself, so when ``--input-size``
    was not given and the preset's tile is not valid for the depth and padding asked for (572 with
    ``--padding same``), the network is described at the nearest valid tile instead of refused."""
    from unet_explain.errors import ConfigError

    try:
        return config_from_args(args)
    except ConfigError as err:
        if err.argument != "input_size" or "input_size" in given_settings(args):
            raise
    from unet_explain.core.sizes import valid_sizes

    settings = preset_settings(args)
    size = settings["input_size"]
    side = max(size) if isinstance(size, tuple) else size
    found = valid_sizes(side, 4 * side + 4096, depth=settings["depth"], padding=settings["padding"])
    if not found:
        return config_from_args(args)  # the refusal, as before
    dims = len(size) if isinstance(size, tuple) else 2
    return UNetConfig(**{**settings, "input_size": (found[0],) * dims})


def register(sub: Any) -> None:
    p = add_command(
        sub, "fit", cmd_fit, "Which tile and batch fit a memory budget: exact bytes for training or inference."
    )
    p.add_argument("--memory", type=memory_arg, metavar="SIZE", help="the budget, e.g. 11GiB (units as --max-memory)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--train", dest="mode", action="store_const", const="train", help="a training step (default)")
    mode.add_argument("--infer", dest="mode", action="store_const", const="infer", help="a forward pass")
    p.set_defaults(mode="train")
    p.add_argument("--batch", type=whole_arg, default=1, metavar="N", help="tiles per step (default 1, the paper's)")
    p.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd", help="sgd (momentum, the paper's) or adam")
    p.add_argument(
        "--dtype", choices=("float32", "mixed"), default="float32",
        help="float32, or mixed: float16 activations with float32 master weights",
    )  # fmt: skip
    p.add_argument("--tile", type=whole_arg, metavar="S", help="the bytes of this tile (S on every axis), no search")
    p.add_argument(
        "--image", type=image_arg, metavar="HxW|HxWxD", help="an image or volume to cover: tiles needed per candidate"
    )
    p.add_argument("-f", "--format", choices=("text", "json"), default="text", help="output format (default text)")

"""``unet-explain tile``: the overlap-tile plan for a large image (the paper's Figure 2), optionally drawn."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from unet_explain.cli import console
from unet_explain.cli.options import add_command, config_from_args, image_arg, size_arg
from unet_explain.config import on_axes
from unet_explain.errors import ConfigError, UNetExplainError

NAMES = ("tile",)
"""The command(s) :func:`register` adds."""


def cmd_tile(args: argparse.Namespace) -> int:
    from unet_explain.core.spec import build_spec
    from unet_explain.core.tiling import plan_tiles

    console.check_picture_output(args.output, "tiles.png")
    if args.tile is not None:
        if args.input_size is not None and args.input_size != args.tile:
            raise UNetExplainError("--tile and --input-size name the same thing; give one of them")
        args.input_size = args.tile
        try:
            config = config_from_args(args)
        except ConfigError as err:
            raise ConfigError("tile", err.detail) from None
    else:
        try:
            config = config_from_args(args)
        except ConfigError as err:
            if err.argument != "input_size" or args.input_size is not None:
                raise
            # On tile the input size is spelled --tile.
            raise ConfigError("tile", err.detail.replace("pass --input-size", "pass --tile")) from None
    if args.output is not None and config.dims == 3:
        raise ConfigError(
            "output",
            f"draws a 2D tiling picture, but {'x'.join(map(str, config.input_size))} is a volume; "
            "leave out -o for a volume's plan, or plan a 2D image",
        )
    spec = build_spec(config)
    plan = plan_tiles(on_axes(args.image, config.dims), spec)
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps({"config": config.as_dict(), **plan.as_dict()}, indent=2) + "\n")
    else:
        from unet_explain.render.terminal import tile_table

        console.print_wide(tile_table(plan, spec))
    if args.output is not None:
        from unet_explain.render.figures.tiling import save_tiling_figure

        written = save_tiling_figure(plan, args.output)
        console.wrote(f"Wrote the tiling picture to {written}", written, to_stderr=args.format == "json")
    return 0


def register(sub: Any) -> None:
    p = add_command(sub, "tile", cmd_tile, "Plan the overlap-tile strategy for a large image (the paper's Figure 2).")
    p.add_argument(
        "--image",
        type=image_arg,
        required=True,
        metavar="HxW|HxWxD",
        help="the image to segment, e.g. 2000x1500, or a volume, e.g. 512x512x200",
    )
    p.add_argument(
        "--tile",
        type=size_arg,
        metavar="N|HxW|HxWxD",
        help="input tile (default: the paper's 572); an alias of --input-size",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="also draw the plan to FILE (.png, .svg or .pdf)")
    p.add_argument("-f", "--format", choices=("rich", "json"), default="rich", help="output format")

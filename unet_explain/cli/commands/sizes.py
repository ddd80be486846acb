"""``unet-explain sizes``: the valid input sizes in a range, with the output size of each."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from unet_explain.cli import console
from unet_explain.cli.options import add_command, config_from_args, given_settings, preset_settings, whole_arg

NAMES = ("sizes",)
"""The command(s) :func:`register` adds."""


def cmd_sizes(args: argparse.Namespace) -> int:
    from unet_explain.config import validate_settings
    from unet_explain.core.sizes import valid_size_table

    # The listing depends on depth and padding only; no input size is needed.
    given = given_settings(args)
    config = config_from_args(args) if "input_size" in given else None  # a given size is still checked
    settings = preset_settings(args)
    fields = ("depth", "in_channels", "num_classes", "base_filters", "padding", "channel_schedule", "norm")
    validate_settings(*(settings[k] for k in fields))
    table = valid_size_table(args.min, args.max, depth=settings["depth"], padding=settings["padding"])
    # A volume's tile: each axis checked on its own, with its nearest valid sides (a 2D output stays as it was).
    axes = None
    if config is not None and config.dims == 3:
        from unet_explain.core.sizes import check_axes

        axes = check_axes(config.input_size, depth=config.depth, padding=config.padding)
    if args.format == "json":
        import json

        data = table.as_dict() | ({"axes": [a.as_dict() for a in axes]} if axes else {})
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    elif args.format == "plain":
        sys.stdout.write(" ".join(str(row.input) for row in table.rows) + "\n")
        for a in axes or ():
            sys.stdout.write(f"{a.axis}: {a.side} valid, nearest {a.below} and {a.above}, output {a.output}\n")
    else:
        from unet_explain.render.terminal import axes_table, sizes_table

        console.print_wide(sizes_table(table))
        if axes:
            console.print_wide(axes_table(axes))
    return 0


def register(sub: Any) -> None:
    p = add_command(sub, "sizes", cmd_sizes, "List the valid input sizes in a range, with the output size of each.")
    p.add_argument("--min", type=whole_arg, default=1, help="smallest side to consider (default 1)")
    p.add_argument("--max", type=whole_arg, default=1024, help="largest side to consider (default 1024)")
    p.add_argument("-f", "--format", choices=("rich", "plain", "json"), default="rich", help="output format")

"""``unet-explain sizes``: the valid input sizes in a range, with the output size of each."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from unet_explain.cli import console
from unet_explain.cli.options import add_command, config_from_args, given_settings, whole_arg
from unet_explain.config import UNetConfig


def cmd_sizes(args: argparse.Namespace) -> int:
    from unet_explain.config import validate_settings
    from unet_explain.core.sizes import valid_size_table

    # The listing depends on depth and padding only; no input size is needed.
    given = given_settings(args)
    if "input_size" in given:
        config_from_args(args)  # a given size is still checked, so a typo is not silently ignored
    settings = UNetConfig().as_dict() | given
    validate_settings(*(settings[k] for k in ("depth", "in_channels", "num_classes", "base_filters", "padding")))
    table = valid_size_table(args.min, args.max, depth=settings["depth"], padding=settings["padding"])
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(table.as_dict(), indent=2) + "\n")
    elif args.format == "plain":
        sys.stdout.write(" ".join(str(row.input) for row in table.rows) + "\n")
    else:
        from unet_explain.render.terminal import sizes_table

        console.print_wide(sizes_table(table))
    return 0


def register(sub: Any) -> None:
    p = add_command(sub, "sizes", cmd_sizes, "List the valid input sizes in a range, with the output size of each.")
    p.add_argument("--min", type=whole_arg, default=1, help="smallest side to consider (default 1)")
    p.add_argument("--max", type=whole_arg, default=1024, help="largest side to consider (default 1024)")
    p.add_argument("-f", "--format", choices=("rich", "plain", "json"), default="rich", help="output format")

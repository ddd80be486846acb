"""``unet-explain table``: the per-stage table (sizes, crops, channels, parameters, compute, memory)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from unet_explain.cli import console
from unet_explain.cli.options import add_command, config_from_args

FORMATS = ("rich", "markdown", "csv", "json", "latex", "html")


def cmd_table(args: argparse.Namespace) -> int:
    from unet_explain.core.spec import build_spec

    spec = build_spec(config_from_args(args))
    if args.format == "rich":
        from unet_explain.render.terminal import stage_table

        console.print_wide(stage_table(spec))
    else:
        from unet_explain.render.text_formats import FORMATS as WRITERS

        sys.stdout.write(WRITERS[args.format](spec))
    return 0


def register(sub: Any) -> None:
    p = add_command(
        sub, "table", cmd_table, "Print the per-stage table: sizes, crops, channels, parameters, compute, memory."
    )
    p.add_argument(
        "-f", "--format", choices=FORMATS, default="rich",
        help="output format (default rich: a table for the terminal)",
    )  # fmt: skip

"""``unet-explain receptive-field``: the exact receptive field of every output pixel, and of each stage."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from unet_explain.cli import console
from unet_explain.cli.options import add_command, config_from_args

NAMES = ("receptive-field",)
"""The command(s) :func:`register` adds."""


def cmd_receptive_field(args: argparse.Namespace) -> int:
    from unet_explain.core.receptive_field import analyse
    from unet_explain.core.spec import build_spec

    spec = build_spec(config_from_args(args))
    report = analyse(spec)
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps({"config": spec.config.as_dict(), **report.as_dict()}, indent=2) + "\n")
    else:
        from unet_explain.render.terminal import field_tables

        console.print_wide(field_tables(report, spec))
    return 0


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "receptive-field",
        cmd_receptive_field,
        "The exact receptive field of every output pixel (and of each stage), against the textbook recursion.",
    )
    p.add_argument("-f", "--format", choices=("rich", "json"), default="rich", help="output format")

"""``unet-explain table``: the per-stage table (sizes, crops, channels, parameters, compute, memory)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from unet_explain.cli import console
from unet_explain.cli.options import add_command, config_from_args

FORMATS = ("rich", "markdown", "csv", "json", "latex", "html")

NAMES = ("table",)
"""The command(s) :func:`register` adds."""


def cmd_table(args: argparse.Namespace) -> int:
    from unet_explain.core.spec import build_spec

    spec = build_spec(config_from_args(args))
    if args.train:
        return _with_training(spec, args.format)
    if args.format == "rich":
        from unet_explain.render.terminal import stage_table

        console.print_wide(stage_table(spec))
    else:
        from unet_explain.render.text_formats import FORMATS as WRITERS

        sys.stdout.write(WRITERS[args.format](spec))
    return 0


def _with_training(spec: Any, format: str) -> int:
    """``--train``: the table with what a training step keeps per stage, and the step's bytes."""
    from unet_explain.core.memory import kept_by_stage, memory_use
    from unet_explain.errors import ConfigError
    from unet_explain.render.fit_report import breakdown

    if format not in ("rich", "json"):
        raise ConfigError("train", f"adds a column to --format rich or json only; got --format {format}")
    kept, use = kept_by_stage(spec), memory_use(spec)
    if format == "json":
        import json

        data = spec.as_dict() | {"train": use.as_dict() | {"kept_by_stage": kept}}
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return 0
    from unet_explain.render.terminal import stage_table

    console.print_wide(stage_table(spec, kept))
    sys.stdout.write("A training step (batch 1, SGD with momentum, float32; see `unet-explain fit`):\n")
    sys.stdout.write("\n".join(breakdown(use)) + "\n")
    return 0


def register(sub: Any) -> None:
    p = add_command(
        sub, "table", cmd_table, "Print the per-stage table: sizes, crops, channels, parameters, compute, memory."
    )
    p.add_argument(
        "-f", "--format", choices=FORMATS, default="rich",
        help="output format (default rich: a table for the terminal)",
    )  # fmt: skip
    p.add_argument(
        "--train", action="store_true",
        help="add what a training step keeps per stage (batch 1, SGD, float32) and the step's bytes (rich or json)",
    )  # fmt: skip

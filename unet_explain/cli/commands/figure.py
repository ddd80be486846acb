"""``unet-explain figure NAME``: one of the walkthrough's teaching figures, for a configuration."""

from __future__ import annotations

import argparse
from typing import Any

from unet_explain.cli.options import add_command, config_from_args

NAMES = ("figure",)
"""The command(s) :func:`register` adds."""


def cmd_figure(args: argparse.Namespace) -> int:
    from pathlib import Path

    from unet_explain.core.spec import build_spec
    from unet_explain.errors import UNetExplainError
    from unet_explain.render.figures.registry import FIGURE_FORMATS, VOLUME_FIGURES, render
    from unet_explain.render.output import atomic_write, check_output_path, output_format

    config = config_from_args(args)
    if config.dims == 3 and args.name not in VOLUME_FIGURES:
        raise UNetExplainError(
            f"figure {args.name} draws 2D maps and cannot show a volume ({'x'.join(map(str, config.input_size))}); "
            f"for a volume draw {' or '.join(sorted(VOLUME_FIGURES))}, or 'unet-explain diagram' for its U"
        )
    example = f"{args.name}.{args.format or 'svg'}"
    path = Path(example) if args.output is None else check_output_path(args.output, example)
    fmt = output_format(path, args.format, FIGURE_FORMATS)
    spec = build_spec(config)
    written = atomic_write(path, render(args.name, spec, args.theme, fmt))
    from unet_explain.cli import console

    console.wrote(f"Wrote the {args.name} figure ({args.theme}) to {written}", written)
    return 0


def register(sub: Any) -> None:
    from unet_explain.render.figures.registry import FIGURE_FORMATS, LESSON_FIGURES, THEMES

    p = add_command(sub, "figure", cmd_figure, "Draw one of the walkthrough's teaching figures for a configuration.")
    p.add_argument("name", choices=tuple(LESSON_FIGURES), metavar="NAME", help=", ".join(LESSON_FIGURES))
    p.add_argument(
        "-o", "--output", metavar="FILE", help="file to write (default NAME.svg; the suffix sets the format)"
    )
    p.add_argument("-f", "--format", choices=FIGURE_FORMATS, help="svg, png or pdf (default: from the suffix)")
    p.add_argument(
        "--theme", choices=THEMES, default="light", help="colours for a light or a dark page (default light)"
    )

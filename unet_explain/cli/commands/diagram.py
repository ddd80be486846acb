"""``unet-explain diagram``: the U (the paper's Figure 1) drawn with Graphviz, or in text; or Keras's layer graph."""

from __future__ import annotations

import argparse
from typing import Any

from unet_explain.cli import console
from unet_explain.cli.options import add_command, config_from_args
from unet_explain.config import UNetConfig
from unet_explain.errors import UNetExplainError

NAMES = ("diagram",)
"""The command(s) :func:`register` adds."""


def cmd_diagram(args: argparse.Namespace) -> int:
    from pathlib import Path

    config = config_from_args(args)
    fmt = args.format
    if args.highlight:  # repeated flags add up: --highlight output --highlight enc1
        args.highlight = ",".join(args.highlight)
    if fmt == "text" and args.theme != "light":
        raise UNetExplainError("--theme colours the drawn diagram (png, svg, pdf, dot); the text U has none, drop it")
    if args.layers and (args.highlight or args.theme != "light"):
        raise UNetExplainError("--highlight and --theme style the U diagram; --layers draws Keras's graph, drop one")
    if fmt == "text":
        if args.layers:
            raise UNetExplainError(
                "--layers draws Keras's layer graph with Graphviz; use --format png, svg, pdf or dot"
            )
        from unet_explain.core.spec import build_spec
        from unet_explain.render.text_diagram import u_text

        if args.output is None:
            # Never wrapped or cropped: a U cut at the terminal's edge is no U.
            console.console().print(u_text(build_spec(config), args.highlight), soft_wrap=True)
            return 0
        from unet_explain.render.output import check_output_path, check_text_suffix

        path = check_output_path(args.output, "unet.txt")
        check_text_suffix(path)
        return _write_text_u(config, path, args.highlight)
    from unet_explain.render.output import DIAGRAM_FORMATS, check_output_path, output_format

    example = f"unet.{fmt or 'png'}"
    path = Path(example) if args.output is None else check_output_path(args.output, example)
    fmt = output_format(path, fmt, DIAGRAM_FORMATS)
    if args.layers:
        from unet_explain.model.plot import save_layer_graph

        written = save_layer_graph(config, path, fmt)
        what = "Keras layer graph"
    else:
        from unet_explain.render.diagram import diagram

        written = diagram(config, highlight=args.highlight, theme=args.theme).save(path, fmt)
        what = "U diagram"
    console.wrote(f"Wrote the {what} ({fmt}, {config.describe()}) to {written}", written)
    return 0


def _write_text_u(config: UNetConfig, path: Any, highlight: str | None) -> int:
    import io

    from rich.console import Console

    from unet_explain.core.spec import build_spec
    from unet_explain.render.output import write_text
    from unet_explain.render.text_diagram import u_text

    buffer = io.StringIO()
    out = Console(file=buffer, width=400, color_system=None, highlight=False)
    out.print(u_text(build_spec(config), highlight), soft_wrap=True)
    text = "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"
    written = write_text(path, text)
    console.wrote(f"Wrote the U diagram (text) to {written}", written)
    return 0


def register(sub: Any) -> None:
    p = add_command(
        sub, "diagram", cmd_diagram, "Draw the U-shaped architecture (the paper's Figure 1) for a configuration."
    )
    p.add_argument(
        "-o", "--output", metavar="FILE", help="file to write (default unet.png; the suffix sets the format)"
    )
    p.add_argument(
        "-f",
        "--format",
        choices=("png", "svg", "pdf", "dot", "text"),
        help="png, svg, pdf (need Graphviz), dot, or text (the U in the terminal; no Graphviz needed)",
    )
    p.add_argument(
        "--layers", action="store_true", help="draw every layer of the built Keras model instead (imports TensorFlow)"
    )
    p.add_argument(
        "--highlight",
        action="append",
        metavar="STAGE[,STAGE...]",
        help="draw these stages (enc1..encD, bottleneck, decD..dec1, output) in colour, the rest muted (repeatable)",
    )
    p.add_argument(
        "--theme",
        choices=("light", "dark", "transparent"),
        default="light",
        help="light (default), dark (light text on a dark background) or transparent (no background)",
    )

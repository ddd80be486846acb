"""The ``unet-explain`` command line: parse, call the library, print.

A thin layer by design. Every rule lives in the library; this module turns the
library's :class:`~unet_explain.errors.UNetExplainError` into one line on
stderr and a non-zero exit status, at one place (:func:`main`). Heavy modules
(TensorFlow, pydot, the docs tooling) are imported inside the command that
needs them, so ``unet-explain table`` starts in a fraction of a second.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from unet_explain.config import UNetConfig, format_size_arg, parse_size
from unet_explain.errors import ConfigError, UNetExplainError

PROG = "unet-explain"

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line, not a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _size_arg(text: str) -> tuple[int, int]:
    try:
        return parse_size(text)
    except ConfigError as err:
        raise argparse.ArgumentTypeError(err.detail) from None


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("network configuration (defaults: the paper's network)")
    group.add_argument(
        "--input-size", type=_size_arg, metavar="N|HxW", help="input tile, e.g. 572 or 572x636 (default 572)"
    )
    group.add_argument("--in-channels", type=int, metavar="C", help="input channels (default 1)")
    group.add_argument("--num-classes", type=int, metavar="K", help="output classes (default 2)")
    group.add_argument("--depth", type=int, metavar="D", help="number of 2x2 poolings (default 4)")
    group.add_argument("--base-filters", type=int, metavar="F", help="filters of the first level (default 64)")
    group.add_argument(
        "--padding", metavar="valid|same", help="'valid' (the paper, with crops) or 'same' (default valid)"
    )


CONFIG_FIELDS = ("input_size", "in_channels", "num_classes", "depth", "base_filters", "padding")


def _given(args: argparse.Namespace) -> dict[str, Any]:
    return {name: getattr(args, name) for name in CONFIG_FIELDS if getattr(args, name, None) is not None}


def config_from_args(args: argparse.Namespace) -> UNetConfig:
    """The config the flags ask for; unset flags keep the paper's values."""
    given = _given(args)
    try:
        return UNetConfig(**given)
    except ConfigError as err:
        if err.argument != "input_size" or "input_size" in given:
            raise
        # The user changed depth or padding but not the tile: say the size is the paper's default.
        size = format_size_arg(UNetConfig().input_size)
        raise ConfigError("input_size", f"{err.detail}; {size} is the default tile, pass --input-size") from None


def _console() -> Any:
    from rich.console import Console

    return Console(highlight=False)


def _print_wide(renderable: Any) -> None:
    """Print a rich renderable; when piped, use the width it needs instead of 80 columns."""
    console = _console()
    if not console.is_terminal:
        unbounded = console.options.update(max_width=10_000)
        console.width = min(max(console.measure(renderable, options=unbounded).maximum, 40), 160)
    console.print(renderable)


# --- commands -------------------------------------------------------------------


def cmd_table(args: argparse.Namespace) -> int:
    from unet_explain.core.spec import build_spec

    spec = build_spec(config_from_args(args))
    if args.format == "rich":
        from unet_explain.render.terminal import stage_table

        _print_wide(stage_table(spec))
    else:
        from unet_explain.render.text_formats import FORMATS

        sys.stdout.write(FORMATS[args.format](spec))
    return 0


def cmd_sizes(args: argparse.Namespace) -> int:
    from unet_explain.config import validate_settings
    from unet_explain.core.sizes import valid_size_table

    # The listing depends on depth and padding only; no input size is needed.
    given = _given(args)
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

        _print_wide(sizes_table(table))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from unet_explain.model.verify import verify
    from unet_explain.render.terminal import verify_table

    report = verify(config_from_args(args))
    _print_wide(verify_table(report))
    if not report.ok:
        names = ", ".join(check.name for check in report.mismatches) or "total parameters"
        print(f"{PROG}: the spec and the Keras model disagree at: {names}", file=sys.stderr)
        return 1
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    from unet_explain.model.keras_unet import build_model

    build_model(config_from_args(args)).summary(line_length=110)
    return 0


def cmd_diagram(args: argparse.Namespace) -> int:
    from pathlib import Path

    config = config_from_args(args)
    fmt = args.format
    if fmt == "text":
        if args.layers:
            raise UNetExplainError(
                "--layers draws Keras's layer graph with Graphviz; use --format png, svg, pdf or dot"
            )
        from unet_explain.core.spec import build_spec
        from unet_explain.render.text_diagram import u_text

        if args.output is None:
            _print_wide(u_text(build_spec(config)))
            return 0
        return _write_text_u(config, Path(args.output))
    from unet_explain.render.output import DIAGRAM_FORMATS, format_from_path

    path = Path(args.output or f"unet.{fmt or 'png'}")
    fmt = format_from_path(path, fmt, DIAGRAM_FORMATS)
    if args.output and args.format and path.suffix.lower().lstrip(".") not in ("", fmt):
        raise UNetExplainError(
            f"output {str(path)!r} has suffix {path.suffix!r} but --format is {fmt!r}; make them agree"
        )
    if args.layers:
        from unet_explain.model.plot import save_layer_graph

        written = save_layer_graph(config, path, fmt)
        what = "Keras layer graph"
    else:
        from unet_explain.render.diagram import diagram

        written = diagram(config).save(path, fmt)
        what = "U diagram"
    print(f"Wrote the {what} ({fmt}, {config.describe()}) to {written}")
    return 0


def _write_text_u(config: UNetConfig, path: Any) -> int:
    import io

    from rich.console import Console

    from unet_explain.core.spec import build_spec
    from unet_explain.render.output import write_text
    from unet_explain.render.text_diagram import u_text

    buffer = io.StringIO()
    console = Console(file=buffer, width=400, color_system=None, highlight=False)
    console.print(u_text(build_spec(config)))
    text = "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"
    print(f"Wrote the U diagram (text) to {write_text(path, text)}")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from pathlib import Path

    from unet_explain.docs.site import build_site, serve_site

    if args.action == "serve":
        print(f"Serving the site on http://127.0.0.1:{args.port}/ (Ctrl-C to stop)")
        serve_site(args.port)
        return 0
    site, seconds = build_site(Path(args.site_dir) if args.site_dir else None)
    print(f"Built the site in {seconds:.1f} s: open {site / 'index.html'}, or browse it with 'unet-explain docs serve'")
    return 0


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

        _print_wide(field_tables(report, spec))
    return 0


def cmd_tile(args: argparse.Namespace) -> int:
    from unet_explain.core.spec import build_spec
    from unet_explain.core.tiling import plan_tiles

    if args.tile is not None:
        if args.input_size is not None and args.input_size != args.tile:
            raise UNetExplainError("--tile and --input-size name the same thing; give one of them")
        args.input_size = args.tile
        try:
            config = config_from_args(args)
        except ConfigError as err:
            raise ConfigError("tile", err.detail) from None
    else:
        config = config_from_args(args)
    spec = build_spec(config)
    plan = plan_tiles(args.image, spec)
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps({"config": config.as_dict(), **plan.as_dict()}, indent=2) + "\n")
    else:
        from unet_explain.render.terminal import tile_table

        _print_wide(tile_table(plan, spec))
    if args.output:
        from unet_explain.render.tiling_figure import save_tiling_figure

        written = save_tiling_figure(plan, args.output)
        print(f"Wrote the tiling picture to {written}", file=sys.stderr if args.format == "json" else sys.stdout)
    return 0


def cmd_figure(args: argparse.Namespace) -> int:
    from pathlib import Path

    from unet_explain.core.spec import build_spec
    from unet_explain.render.lesson_figures import FIGURE_FORMATS, render
    from unet_explain.render.output import atomic_write, format_from_path

    spec = build_spec(config_from_args(args))
    path = Path(args.output or f"{args.name}.svg")
    fmt = format_from_path(path, args.format, FIGURE_FORMATS)
    written = atomic_write(path, render(args.name, spec, args.theme, fmt))
    print(f"Wrote the {args.name} figure ({args.theme}) to {written}")
    return 0


def _port_arg(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535; got {text!r}")
    return int(text)


def _image_arg(text: str) -> tuple[int, int]:
    try:
        return parse_size(text, "image")
    except ConfigError as err:
        raise argparse.ArgumentTypeError(err.detail) from None


def cmd_audit(args: argparse.Namespace) -> int:
    from unet_explain.model.audit import audit_model, load_model

    report = audit_model(load_model(args.model))
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(report.as_dict(), indent=2) + "\n")
    else:
        from unet_explain.render.terminal import audit_tables

        _print_wide(audit_tables(report))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from unet_explain.model.variants import VARIANTS, compare_variants

    reports, notes = compare_variants(args.variants or list(VARIANTS), config_from_args(args))
    if args.format == "json":
        import json

        data = {name: {"note": notes[name], **report.as_dict()} for name, report in reports.items()}
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        from unet_explain.render.terminal import compare_table

        _print_wide(compare_table(reports, notes))
    return 0


def cmd_weight_map(args: argparse.Namespace) -> int:
    import numpy as np

    from unet_explain.loss_weights import touching_cells, weight_map

    if args.demo == bool(args.labels):
        raise UNetExplainError("weight-map: give --demo (a synthetic image of touching cells) or --labels FILE.npy")
    if args.demo:
        labels = touching_cells()
        source = "a synthetic image of touching cells"
    else:
        try:
            labels = np.load(args.labels, allow_pickle=False)
        except (OSError, ValueError) as err:
            raise ConfigError("labels", f"{args.labels!r} is not a readable .npy array of cell ids ({err})") from None
        source = args.labels
    weights = weight_map(labels, w0=args.w0, sigma=args.sigma)
    border = weights.border_term
    peak = np.unravel_index(int(border.argmax()), border.shape)
    print(f"Weight map of {source}: {labels.shape[0]}x{labels.shape[1]} pixels, {int(labels.max())} cells")
    background, cells = weights.class_term[labels == 0], weights.class_term[labels > 0]
    print(f"  class balance w_c: background {background.min():.3f}, cells {cells.max():.3f}")
    print(
        f"  border term: peak {border.max():.3f} at row {peak[0]}, column {peak[1]} "
        f"(d1 = {weights.d1[peak]:.1f}, d2 = {weights.d2[peak]:.1f}); w0 = {args.w0:g}, sigma = {args.sigma:g}"
    )
    print(
        f"  weight map w: from {weights.total.min():.3f} to {weights.total.max():.3f}, mean {weights.total.mean():.3f}"
    )
    if args.output:
        from unet_explain.render.weight_map_figure import save_weight_map_figure

        written = save_weight_map_figure(labels, weights, args.w0, args.sigma, args.output)
        print(f"Wrote the weight map picture to {written}")
    return 0


# --- parser ---------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (also used to generate the CLI reference in the docs)."""
    parser = _Parser(
        prog=PROG,
        description="The original U-Net (Ronneberger, Fischer, Brox 2015) by its numbers and pictures.",
    )
    from unet_explain import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, handler: Handler, help: str, config: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(handler=handler)
        if config:
            _add_config_flags(p)
        return p

    p = command("table", cmd_table, "Print the per-stage table: sizes, crops, channels, parameters, compute, memory.")
    p.add_argument(
        "-f", "--format", choices=("rich", "markdown", "csv", "json", "latex", "html"), default="rich",
        help="output format (default rich: a table for the terminal)",
    )  # fmt: skip

    p = command("sizes", cmd_sizes, "List the valid input sizes in a range, with the output size of each.")
    p.add_argument("--min", type=int, default=1, help="smallest side to consider (default 1)")
    p.add_argument("--max", type=int, default=1024, help="largest side to consider (default 1024)")
    p.add_argument("-f", "--format", choices=("rich", "plain", "json"), default="rich", help="output format")

    p = command("diagram", cmd_diagram, "Draw the U-shaped architecture (the paper's Figure 1) for a configuration.")
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

    p = command(
        "receptive-field",
        cmd_receptive_field,
        "The exact receptive field of every output pixel (and of each stage), against the textbook recursion.",
    )
    p.add_argument("-f", "--format", choices=("rich", "json"), default="rich", help="output format")

    p = command("tile", cmd_tile, "Plan the overlap-tile strategy for a large image (the paper's Figure 2).")
    p.add_argument(
        "--image", type=_image_arg, required=True, metavar="HxW", help="the image to segment, e.g. 2000x1500"
    )
    p.add_argument(
        "--tile",
        type=_size_arg,
        metavar="N|HxW",
        help="input tile (default: the paper's 572); an alias of --input-size",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="also draw the plan to FILE (.png, .svg or .pdf)")
    p.add_argument("-f", "--format", choices=("rich", "json"), default="rich", help="output format")

    from unet_explain.render.lesson_figures import FIGURE_FORMATS, LESSON_FIGURES, THEMES

    p = command("figure", cmd_figure, "Draw one of the walkthrough's teaching figures for a configuration.")
    p.add_argument("name", choices=tuple(LESSON_FIGURES), metavar="NAME", help=", ".join(LESSON_FIGURES))
    p.add_argument(
        "-o", "--output", metavar="FILE", help="file to write (default NAME.svg; the suffix sets the format)"
    )
    p.add_argument("-f", "--format", choices=FIGURE_FORMATS, help="svg, png or pdf (default: from the suffix)")
    p.add_argument(
        "--theme", choices=THEMES, default="light", help="colours for a light or a dark page (default light)"
    )

    p = command(
        "audit",
        cmd_audit,
        "Audit a Keras U-Net against the paper: padding, skips, crops, up-sampling, normalisation, head.",
        False,
    )
    p.add_argument(
        "model", metavar="MODEL", help="a saved model (model.keras) or a factory: file.py:function, pkg.mod:function"
    )
    p.add_argument("-f", "--format", choices=("rich", "json"), default="rich", help="output format")

    p = command("compare", cmd_compare, "Build the built-in variants and audit them side by side against the paper.")
    p.add_argument(
        "variants",
        nargs="*",
        metavar="VARIANT",
        help="paper, caffe-release, tutorial-resize, same-padding (default: all)",
    )
    p.add_argument("-f", "--format", choices=("rich", "json"), default="rich", help="output format")

    p = command("weight-map", cmd_weight_map, "The weight map of the paper's loss (equation 2), drawn.", False)
    p.add_argument("--demo", action="store_true", help="use a synthetic image of touching cells (no download)")
    p.add_argument("--labels", metavar="FILE.npy", help="a 2-D array of cell ids (0 = background) saved with numpy")
    p.add_argument("--w0", type=float, default=10.0, help="weight of the border term (paper: 10)")
    p.add_argument("--sigma", type=float, default=5.0, help="width of the border term in pixels (paper: about 5)")
    p.add_argument("-o", "--output", metavar="FILE", help="draw the map to FILE (.png, .svg or .pdf)")

    p = command("docs", cmd_docs, "Build or serve the walkthrough site (MkDocs), generated from the package.", False)
    p.add_argument(
        "action", choices=("build", "serve"), help="build the site into a folder, or serve it with live reload"
    )
    p.add_argument("-d", "--site-dir", metavar="DIR", help="build: the output folder (default site/)")
    p.add_argument("--port", type=_port_arg, default=8000, help="serve: the port on 127.0.0.1 (default 8000)")

    command("verify", cmd_verify, "Build the Keras model; check every layer's shape and parameters against the spec.")
    command("summary", cmd_summary, "Print Keras's model.summary() of the built model.")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 2
    try:
        handler: Handler = args.handler
        return handler(args)
    except ConfigError as err:
        print(f"{PROG}: error: {err.with_flag_names()}", file=sys.stderr)
        return err.exit_code
    except UNetExplainError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def run() -> NoReturn:
    """Console-script entry point."""
    sys.exit(main())

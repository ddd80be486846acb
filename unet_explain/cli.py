"""The ``unet-explain`` command line: parse, call the library, print.

A thin layer by design. Every rule lives in the library; this module turns the
library's :class:`~unet_explain.errors.UNetExplainError` into one line on
stderr and a non-zero exit status, at one place (:func:`main`). Heavy modules
(TensorFlow, pydot, the docs tooling) are imported inside the command that
needs them, so ``unet-explain table`` starts in a fraction of a second.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import errno
import io
import os
import sys
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from unet_explain.config import UNetConfig, format_size_arg, parse_size
from unet_explain.errors import ConfigError, UNetExplainError

PROG = "unet-explain"

EXIT_STATUS = """\
exit status:
  0    success
  1    a runtime or I/O failure: a full disk, a permission, Graphviz, TensorFlow
  2    bad usage or input: an unknown flag, an invalid size, a missing folder, a file name too long
  130  interrupted (Ctrl-C)
Every failure is one line on stderr; nothing half-written is left behind."""

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
    if not console.encoding.lower().startswith("utf"):
        renderable = _asciify(renderable)  # before the layout, so that '->' for an arrow keeps columns aligned
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


def _keras_config(args: argparse.Namespace) -> UNetConfig:
    """The config, after checking that building its Keras model fits the memory budget (before TensorFlow)."""
    from unet_explain.core.budget import check_memory

    config = config_from_args(args)
    check_memory(config, args.max_memory)
    return config


def cmd_verify(args: argparse.Namespace) -> int:
    from unet_explain.core.budget import memory_budget

    config = _keras_config(args)
    from unet_explain.model.verify import verify
    from unet_explain.render.terminal import verify_table

    with memory_budget(args.max_memory):
        report = verify(config)
    _print_wide(verify_table(report))
    if not report.ok:
        names = ", ".join(check.name for check in report.mismatches) or "total parameters"
        _say(f"the spec and the Keras model disagree at: {names}")
        return 1
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    from unet_explain.core.budget import memory_budget

    config = _keras_config(args)
    from unet_explain.model.keras_unet import build_model

    with memory_budget(args.max_memory):
        model = build_model(config)
    model.summary(line_length=110)
    return 0


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
            _console().print(u_text(build_spec(config), args.highlight), soft_wrap=True)
            return 0
        from unet_explain.render.output import check_output_path

        return _write_text_u(config, check_output_path(args.output, "unet.txt"), args.highlight)
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
    _wrote(f"Wrote the {what} ({fmt}, {config.describe()}) to {written}", written)
    return 0


def _write_text_u(config: UNetConfig, path: Any, highlight: str | None) -> int:
    import io

    from rich.console import Console

    from unet_explain.core.spec import build_spec
    from unet_explain.render.output import write_text
    from unet_explain.render.text_diagram import u_text

    buffer = io.StringIO()
    console = Console(file=buffer, width=400, color_system=None, highlight=False)
    console.print(u_text(build_spec(config), highlight), soft_wrap=True)
    text = "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"
    written = write_text(path, text)
    _wrote(f"Wrote the U diagram (text) to {written}", written)
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from pathlib import Path

    from unet_explain.docs.site import build_site, serve_site

    config = config_from_args(args)  # checked before anything is built or served
    if args.action == "serve":
        if args.site_dir is not None:
            raise UNetExplainError("-d/--site-dir is for 'docs build'; 'docs serve' builds into a temporary folder")
        serve_site(args.port or 8000, config=config, announce=True)
        return 0
    if args.port is not None:
        raise UNetExplainError("--port is for 'docs serve'; 'docs build' writes files and serves nothing, drop it")
    if args.site_dir == "":
        raise UNetExplainError("-d '': the path is empty; name a folder for the site, e.g. -d site")
    site, seconds = build_site(Path(args.site_dir) if args.site_dir is not None else None, config=config)
    print(
        f"Built the site for {config.describe()} in {seconds:.1f} s: open {site / 'index.html'}, "
        "or browse it with 'unet-explain docs serve'"
    )
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

    _check_picture_output(args.output, "tiles.png")
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
    spec = build_spec(config)
    plan = plan_tiles(args.image, spec)
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps({"config": config.as_dict(), **plan.as_dict()}, indent=2) + "\n")
    else:
        from unet_explain.render.terminal import tile_table

        _print_wide(tile_table(plan, spec))
    if args.output is not None:
        from unet_explain.render.tiling_figure import save_tiling_figure

        written = save_tiling_figure(plan, args.output)
        _wrote(f"Wrote the tiling picture to {written}", written, to_stderr=args.format == "json")
    return 0


def cmd_figure(args: argparse.Namespace) -> int:
    from pathlib import Path

    from unet_explain.core.spec import build_spec
    from unet_explain.render.lesson_figures import FIGURE_FORMATS, render
    from unet_explain.render.output import atomic_write, check_output_path, output_format

    example = f"{args.name}.{args.format or 'svg'}"
    path = Path(example) if args.output is None else check_output_path(args.output, example)
    fmt = output_format(path, args.format, FIGURE_FORMATS)
    spec = build_spec(config_from_args(args))
    written = atomic_write(path, render(args.name, spec, args.theme, fmt))
    print(f"Wrote the {args.name} figure ({args.theme}) to {written}")
    return 0


def _port_arg(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535; got {text!r}")
    return int(text)


def _channels_arg(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 65536:
        raise argparse.ArgumentTypeError(f"must be a whole number of channels from 1 to 65536; got {text!r}")
    return int(text)


def _image_arg(text: str) -> tuple[int, int]:
    try:
        return parse_size(text, "image")
    except ConfigError as err:
        raise argparse.ArgumentTypeError(err.detail) from None


def cmd_audit(args: argparse.Namespace) -> int:
    from unet_explain.model.audit import audit_model, load_model

    # load_model checks the spec (file, factory) before TensorFlow is imported.
    model = load_model(args.model, unsafe=args.unsafe)
    report = audit_model(model, input_size=args.input_size, in_channels=args.in_channels)
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(report.as_dict(), indent=2) + "\n")
    else:
        from unet_explain.render.terminal import audit_tables

        _print_wide(audit_tables(report))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from unet_explain.core.budget import memory_budget

    config = _keras_config(args)
    from unet_explain.model.variants import VARIANTS, compare_variants

    with memory_budget(args.max_memory):
        reports, notes = compare_variants(args.variants or list(VARIANTS), config)
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

    from unet_explain.loss_weights import check_label_shape, touching_cells, weight_map

    if args.demo and args.labels is not None:
        raise UNetExplainError("weight-map: --demo and --labels both name the image; give one of them, not both")
    if not args.demo and args.labels is None:
        raise UNetExplainError("weight-map: give --demo (a synthetic image of touching cells) or --labels FILE.npy")
    _check_picture_output(args.output, "weights.png")
    if args.demo:
        labels = touching_cells()
        source = "a synthetic image of touching cells"
    else:
        if os.path.exists(args.labels) and not os.path.isfile(args.labels):
            # A FIFO or a device would block or never end: only a regular file is read.
            raise ConfigError("labels", f"{args.labels!r} is not a regular file; save the array with np.save")
        try:
            # Memory-mapped first, so that the shape is checked before a huge file is read.
            with open(args.labels, "rb") as handle:
                magic = handle.read(6)
            if magic != b"\x93NUMPY" and not magic.startswith(b"PK"):
                raise ConfigError(
                    "labels", f"{args.labels!r} is not a .npy array file (no NumPy header); save the array with np.save"
                )
            labels = np.load(args.labels, mmap_mode="r", allow_pickle=False)
        except ConfigError:
            raise
        except (OSError, ValueError, EOFError) as err:
            why = getattr(err, "strerror", None) or str(err).splitlines()[0] if str(err) else type(err).__name__
            raise ConfigError("labels", f"{args.labels!r} is not a readable .npy array of cell ids ({why})") from None
        if not isinstance(labels, np.ndarray):
            raise ConfigError("labels", f"{args.labels!r} holds several arrays (.npz); save one array with np.save")
        check_label_shape(labels)
        labels = np.array(labels)
        source = args.labels
    weights = weight_map(labels, w0=args.w0, sigma=args.sigma)
    border = weights.border_term
    peak = np.unravel_index(int(border.argmax()), border.shape)
    cell = labels > 0
    cells = len(np.unique(labels[cell]))
    print(f"Weight map of {source}: {labels.shape[0]}x{labels.shape[1]} pixels, {cells:,} cell{'s' * (cells != 1)}")
    background = f"{weights.class_term[~cell].min():.3f}" if (~cell).any() else "none (no background pixel)"
    print(f"  class balance w_c: background {background}, cells {weights.class_term[cell].max():.3f}")
    print(
        f"  border term: peak {border.max():.3f} at row {peak[0]}, column {peak[1]} "
        f"(d1 = {weights.d1[peak]:.1f}, d2 = {weights.d2[peak]:.1f}); w0 = {args.w0:g}, sigma = {args.sigma:g}"
    )
    print(
        f"  weight map w: from {weights.total.min():.3f} to {weights.total.max():.3f}, mean {weights.total.mean():.3f}"
    )
    if args.output is not None:
        from unet_explain.render.weight_map_figure import save_weight_map_figure

        written = save_weight_map_figure(labels, weights, args.w0, args.sigma, args.output)
        _wrote(f"Wrote the weight map picture to {written}", written)
    return 0


def _check_picture_output(text: str | None, example: str) -> None:
    """tile -o and weight-map -o: refuse a path that cannot take the picture before the report is printed."""
    if text is None:
        return
    from unet_explain.render.output import IMAGE_FORMATS, check_output_path, output_format

    output_format(check_output_path(text, example, stdout_ok=False), None, IMAGE_FORMATS, format_flag=False)


def _wrote(message: str, written: Any, *, to_stderr: bool = False) -> None:
    """Say what was written; on stderr when the file itself went to standard output (``-o -``).

    A closed stderr means silence: ``print(file=None)`` would put the note into the piped output.
    """
    if str(written) == "-":
        message = message.removesuffix(" to -") + " to standard output"
    if str(written) == "-" or to_stderr:
        if sys.stderr is not None:
            print(message, file=sys.stderr)
        return
    print(message)


# --- parser ---------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (also used to generate the CLI reference in the docs)."""
    parser = _Parser(
        prog=PROG,
        description="The original U-Net (Ronneberger, Fischer, Brox 2015) by its numbers and pictures.",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
        "Audit a Keras U-Net against the paper: padding, down- and up-sampling, skips, activations, "
        "normalisation, dropout, extra layers, head, initialisation.",
        False,
    )
    p.add_argument(
        "model",
        metavar="MODEL",
        help="a saved model (model.keras, loaded in Keras's safe mode) or a factory: file.py:function or "
        "pkg.mod:function (this RUNS that file's code)",
    )
    from unet_explain.model.safe_mode import UNSAFE_HELP  # one line of text: the audit itself stays unloaded

    p.add_argument("--unsafe", action="store_true", help=UNSAFE_HELP)
    p.add_argument(
        "--input-size",
        type=_size_arg,
        metavar="N|HxW",
        help="trace a model whose input size is open (None) at this size (default: 572, or the nearest size it "
        "accepts); a model with a fixed size keeps its own",
    )
    p.add_argument(
        "--in-channels",
        type=_channels_arg,
        metavar="C",
        help="input channels for a model that never saw an input (a subclassed model not yet built; default 1)",
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
    _add_memory_flag(p)

    p = command("weight-map", cmd_weight_map, "The weight map of the paper's loss (equation 2), drawn.", False)
    p.add_argument("--demo", action="store_true", help="use a synthetic image of touching cells (no download)")
    p.add_argument("--labels", metavar="FILE.npy", help="a 2-D array of cell ids (0 = background) saved with numpy")
    p.add_argument("--w0", type=float, default=10.0, help="weight of the border term, 0 to 1e6 (paper: 10)")
    p.add_argument(
        "--sigma", type=float, default=5.0, help="width of the border term, 0.1 to 10000 pixels (paper: about 5)"
    )
    p.add_argument("-o", "--output", metavar="FILE", help="draw the map to FILE (.png, .svg or .pdf)")

    p = command(
        "docs",
        cmd_docs,
        "Build or serve the walkthrough site (MkDocs) for a configuration, generated from the package.",
    )
    p.add_argument(
        "action", choices=("build", "serve"), help="build the site into a folder, or serve it with live reload"
    )
    p.add_argument(
        "-d",
        "--site-dir",
        metavar="DIR",
        help="build: the output folder (default ./site); replaced only by a successful build, "
        "and only if empty or an earlier unet-explain site",
    )
    p.add_argument("--port", type=_port_arg, help="serve: the port on 127.0.0.1 (default 8000)")

    p = command(
        "verify", cmd_verify, "Build the Keras model; check every layer's shape and parameters against the spec."
    )
    _add_memory_flag(p)
    p = command("summary", cmd_summary, "Print Keras's model.summary() of the built model.")
    _add_memory_flag(p)
    return parser


def _memory_arg(text: str) -> int:
    from unet_explain.core.budget import parse_bytes

    try:
        return parse_bytes(text)
    except ConfigError as err:
        raise argparse.ArgumentTypeError(err.detail) from None


def _add_memory_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-memory",
        type=_memory_arg,
        metavar="SIZE",
        help="refuse a model whose weights need more than SIZE, e.g. 16GiB (default 4GiB), before building it",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status (0 ok, 1 runtime or I/O failure, 2 bad usage or input, 130 Ctrl-C).

    This is the one place where failures become one line on stderr: the
    library's :class:`UNetExplainError` (with its own exit status), an
    ``OSError`` (what failed, the path, the system's reason), a broken or full
    standard output, running out of memory, TensorFlow's runtime errors and
    Ctrl-C. Anything else is a bug and keeps its traceback.
    """
    _ascii_fallback()
    if sys.stdout is None:  # started with stdout closed (``>&-``): Python leaves no stream at all
        _say("error: cannot write to standard output: it is closed")
        return 1
    try:
        return _run_command(argv)
    except KeyboardInterrupt:
        _say("interrupted")
        return 130


def _run_command(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    for i, arg in enumerate(argv[:-1]):
        # argparse takes '-1GiB' for a flag; glued to its option it is a value, checked like any other
        if arg == "--max-memory" and argv[i + 1][:1] == "-" and argv[i + 1][1:2].isdigit():
            argv[i : i + 2] = [f"--max-memory={argv[i + 1]}"]
            break
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # named by the command's own parser, so the advice is 'unet-explain table --help'
            _command_parser(parser, getattr(args, "command", None)).error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exit_:  # --help, --version, or a usage error already reported in one line
        return exit_.code if isinstance(exit_.code, int) else 0 if exit_.code is None else 2
    if getattr(args, "handler", None) is None:
        _say(f"error: give a command: {', '.join(_command_names(parser))} (see '{PROG} --help')")
        return 2
    try:
        handler: Handler = args.handler
        code = handler(args)
        sys.stdout.flush()  # inside the guard: a full disk or a closed pipe is reported here, once
        return code
    except ConfigError as err:
        _say(f"error: {err.with_flag_names()}")
        return err.exit_code
    except UNetExplainError as err:
        _say(f"error: {err}")
        return err.exit_code
    except SystemExit as exit_:
        if not _is_rich_broken_pipe(exit_):
            raise
        return 0  # rich (also inside Keras's summary) saw the reader go away and already silenced stdout
    except BrokenPipeError:
        # The reader went away (``| head -1``): that is not a failure of ours. Point stdout at /dev/null
        # so that Python's own flush at exit does not fail again.
        _silence_stdout()
        return 0
    except OSError as err:
        _say(f"error: {_os_error_text(err)}")
        if err.filename is None:
            _silence_stdout()
        return 1
    except MemoryError:
        _say("error: out of memory; try a smaller --input-size or --base-filters")
        return 1
    except Exception as err:
        if not type(err).__module__.startswith("tensorflow"):
            raise  # a bug: keep the traceback
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        _say(f"error: TensorFlow failed: {type(err).__name__}: {first}")
        return 1


def _is_rich_broken_pipe(exit_: SystemExit) -> bool:
    """rich answers a closed pipe with ``SystemExit(1)`` from ``Console.on_broken_pipe``; that is no failure."""
    frame = exit_.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    return frame is not None and frame.tb_frame.f_code.co_name == "on_broken_pipe"


def _command_parser(parser: argparse.ArgumentParser, name: str | None) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and name in action.choices:
            found: argparse.ArgumentParser = action.choices[name]
            return found
    return parser


def _command_names(parser: argparse.ArgumentParser) -> list[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []  # pragma: no cover


def _os_error_text(err: OSError) -> str:
    reason = err.strerror or str(err)
    if err.filename is not None:
        return f"cannot access {str(err.filename)!r}: {reason}"
    code = errno.errorcode.get(err.errno or 0, "")
    # File outputs carry their path (render/output.py); a nameless write failure is the standard output's.
    what = "cannot write to standard output" if err.errno in _WRITE_ERRORS else "system error"
    return f"{what}: {reason}" + (f" ({code})" if code else "")


_WRITE_ERRORS = {errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG, errno.EPIPE}


def _say(message: str) -> None:
    """One line on stderr, ``unet-explain: message``; silent if stderr itself is gone."""
    if sys.stderr is None:  # closed (``2>&-``): stay silent; print(file=None) would write to stdout
        return
    with contextlib.suppress(OSError, ValueError):
        print(f"{PROG}: {message}", file=sys.stderr, flush=True)


def _silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null so that the interpreter's final flush cannot fail."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


# Characters the output uses, and what they become on a terminal that cannot show them (PYTHONIOENCODING=ascii).
_ASCII = {"→": "->", "←": "<-", "↑": "^", "↓": "v", "×": "x", "—": "-", "–": "-", "…": "...", "≈": "~", "·": "."}
_ASCII |= {"≤": "<=", "≥": ">=", "²": "^2", "σ": "sigma", "✓": "ok", "✗": "x", "█": "#", "░": ".", "▒": ":"}
_ASCII |= {"’": "'", "‘": "'", "“": '"', "”": '"', "•": "*", "▶": ">", "◀": "<", "⇒": "=>"}


def _ascii_for(char: str) -> str:
    if char in _ASCII:
        return _ASCII[char]
    name = unicodedata.name(char, "")
    if name.startswith("BOX DRAWINGS"):
        vertical, horizontal = "VERTICAL" in name or "DOWN" in name or "UP" in name, "HORIZONTAL" in name
        return "+" if vertical and (horizontal or "LEFT" in name or "RIGHT" in name) else "|" if vertical else "-"
    if "ARROW" in name:
        return next((a for w, a in (("RIGHT", "->"), ("LEFT", "<-"), ("UP", "^"), ("DOWN", "v")) if w in name), "?")
    plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
    return plain or "?"


def _ascii_text(text: str) -> str:
    return "".join(c if c.isascii() else _ascii_for(c) for c in text)


def _asciify(renderable: Any) -> Any:
    """The same rich renderable with every string spelled in ASCII (tables, groups and texts, recursively)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    if isinstance(renderable, str):
        return _ascii_text(renderable)
    if isinstance(renderable, Text):
        cuts = sorted({i for span in renderable.spans for i in (span.start, span.end)})
        plain = Text(style=renderable.style, justify=renderable.justify, no_wrap=renderable.no_wrap, end=renderable.end)
        for piece in renderable.divide(cuts):
            part = Text(_ascii_text(piece.plain), style=piece.style)
            for span in piece.spans:
                part.stylize(span.style, 0, len(part.plain))
            plain.append_text(part)
        return plain
    if isinstance(renderable, Table):
        renderable.title = _asciify(renderable.title) if renderable.title is not None else None
        renderable.caption = _asciify(renderable.caption) if renderable.caption is not None else None
        for column in renderable.columns:
            column.header = _asciify(column.header)
            column.footer = _asciify(column.footer)
            column._cells = [_asciify(cell) for cell in column._cells]
        return renderable
    if isinstance(renderable, Group):
        return Group(*(_asciify(part) for part in renderable.renderables))
    return renderable


def _ascii_errors(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeEncodeError):
        raise err
    # Here the layout is done: keep rich's ellipsis one character wide.
    bad = err.object[err.start : err.end]
    return "".join("." if c == "…" else _ascii_for(c) for c in bad), err.end


def _ascii_fallback() -> None:
    """Let stdout and stderr replace what their encoding cannot show (arrows, rules) instead of failing."""
    codecs.register_error("unet_explain_ascii", _ascii_errors)
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            with contextlib.suppress(OSError, ValueError):
                stream.reconfigure(errors="unet_explain_ascii")


def run() -> NoReturn:
    """Console-script entry point."""
    sys.exit(main())

"""Fill the documentation's placeholders with tables, numbers and figures made by the package.

The pages under ``docs/`` never contain a pasted number. They contain
placeholders, expanded while the site builds (see :mod:`.hooks`):

=====================================  ===============================================
``{{ table [flags] }}``                the per-stage table, as markdown
``{{ console ARGS }}``                 ``$ unet-explain ARGS`` and what it prints
``{{ diagram [flags] }}``              the U diagram, as an SVG image
``{{ tiling --image HxW [flags] }}``   the overlap-tile plan of an image, as an SVG image
``{{ weight-map }}``                   the loss's weight map on synthetic touching cells, as a PNG
``{{ sizes --min A --max B [flags] }}``  the valid input sizes in a range, as markdown
``{{ crops [flags] }}``                the copy-and-crop arithmetic, level by level
``{{ trace [flags] }}``                one side length traced through every layer
``{{ value PATH [| FORMAT] [flags] }}``  one number from the spec's JSON, e.g. ``totals.params | count``
``{{ summary [flags] }}``              Keras's ``model.summary()`` (imports TensorFlow)
``{{ compare [flags] }}``              the built-in variants audited side by side, as markdown
``{{ audit MODEL }}``                  the audit of a Keras U-Net, as markdown
``{{ cli-reference }}``                every command and flag, from the CLI's own parser
=====================================  ===============================================

``flags`` are the CLI's configuration flags (``--input-size 188 --depth 3``).
Each expansion is cached under ``.cache/docs`` by a hash of the package's own
source and the placeholder, so a rebuild with no change is quick and any change
to the code produces fresh output.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import posixpath
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from unet_explain.config import UNetConfig, format_size
from unet_explain.core.spec import UNetSpec, build_spec
from unet_explain.errors import UNetExplainError
from unet_explain.render.formatting import count, megabytes, si

PACKAGE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = PACKAGE_DIR.parent  # commands in the docs run from the repository's top, as in a terminal
PLACEHOLDER = re.compile(r"\{\{\s*([a-z][a-z-]*)\b(.*?)\}\}", re.S)
ASSET_DIR = "assets/generated"


class PlaceholderError(UNetExplainError):
    """A placeholder in a docs page that cannot be expanded."""


@cache
def fingerprint() -> str:
    """Hash of the package's source and of Graphviz's version: what generated output depends on."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    dot = shutil.which("dot")
    if dot:
        version = subprocess.run([dot, "-V"], capture_output=True, text=True, check=False)
        digest.update(version.stderr.encode())
    return digest.hexdigest()


class Cache:
    """Expanded placeholders on disk, keyed by the package fingerprint and the placeholder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.hits = 0
        self.misses = 0

    def key(self, *parts: str) -> str:
        return hashlib.sha256("\0".join((fingerprint(), *parts)).encode()).hexdigest()[:20]

    def get(self, key: str, suffix: str, make: Callable[[], bytes]) -> Path:
        path = self.folder / f"{key}{suffix}"
        if path.exists():
            self.hits += 1
            return path
        self.misses += 1
        data = make()
        self.folder.mkdir(parents=True, exist_ok=True)
        from unet_explain.render.output import atomic_write

        return atomic_write(path, data)

    def text(self, kind: str, args: str, make: Callable[[], str]) -> str:
        path = self.get(self.key(kind, args), ".md", lambda: make().encode("utf-8"))
        return path.read_text(encoding="utf-8")


# --- parsing placeholder arguments ------------------------------------------------


def _config_parser() -> argparse.ArgumentParser:
    from unet_explain.cli import _add_config_flags

    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    _add_config_flags(parser)
    return parser


def config_from_flags(words: list[str]) -> UNetConfig:
    """A config from CLI configuration flags (``--input-size 188 --depth 3``)."""
    from unet_explain.cli import config_from_args

    try:
        args, rest = _config_parser().parse_known_args(words)
    except argparse.ArgumentError as err:
        raise PlaceholderError(str(err)) from None
    if rest:
        raise PlaceholderError(f"unknown words {rest}")
    return config_from_args(args)


def spec_from_flags(words: list[str]) -> UNetSpec:
    return build_spec(config_from_flags(words))


# --- the expansions ---------------------------------------------------------------


def run_cli(words: list[str]) -> str:
    """What ``unet-explain WORDS`` prints (stdout, then any stderr line), without colour."""
    from unet_explain.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), contextlib.suppress(SystemExit):
        main(words)
    return out.getvalue() + err.getvalue()


def console(words: list[str]) -> str:
    text = "\n".join(line.rstrip() for line in run_cli(words).rstrip("\n").splitlines())
    return f"```text\n$ unet-explain {shlex.join(words)}\n{text}\n```\n"


def table(words: list[str]) -> str:
    from unet_explain.render.text_formats import to_markdown

    return to_markdown(spec_from_flags(words))


def sizes(words: list[str]) -> str:
    from unet_explain.core.sizes import valid_size_table

    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    parser.add_argument("--min", type=int, required=True)
    parser.add_argument("--max", type=int, required=True)
    args, rest = parser.parse_known_args(words)
    config = config_from_flags(rest)
    found = valid_size_table(args.min, args.max, depth=config.depth, padding=config.padding)
    lines = [
        "| Input tile | Output map | Context margin per side | Entering the bottleneck |",
        "|---:|---:|---:|---:|",
    ]
    lines += [f"| {r.input} | {r.output} | {r.margin} | {r.bottleneck} |" for r in found.rows]
    return "\n".join(lines) + "\n"


def crops(words: list[str]) -> str:
    spec = spec_from_flags(words)
    lines = [
        "| Level | Copied map (from) | Up-sampled map | Difference | Crop per side |",
        "|:---|---:|---:|---:|---:|",
    ]
    for stage in spec.stages:
        if stage.crop is None or stage.skip_size is None or stage.up_size is None:
            continue
        diff = [s - u for s, u in zip(stage.skip_size, stage.up_size, strict=True)]
        diff_text = str(diff[0]) if diff[0] == diff[1] else f"{diff[0]}x{diff[1]}"
        crop = stage.crop
        crop_text = str(crop[0]) if crop[0] == crop[1] else f"{crop[0]}x{crop[1]}"
        lines.append(
            f"| {stage.name} | {format_size(stage.skip_size)} ({stage.skip_from}) | {format_size(stage.up_size)} "
            f"| {diff_text} | **{crop_text}** |"
        )
    return "\n".join(lines) + "\n"


def trace(words: list[str]) -> str:
    """One side length through every layer: ``572 → 570 → 568 ⇣ 284 …``."""
    spec = spec_from_flags(words)
    parts = [str(spec.config.input_size[0])]
    for layer in spec.layers:
        side = str(layer.out_size[0])
        if layer.kind == "conv3x3":
            parts.append(f"→ {side}")
        elif layer.kind == "maxpool":
            parts.append(f"⇣ {side}")
        elif layer.kind == "upconv":
            parts.append(f"⇡ {side}")
    return "`" + " ".join(parts) + "`"


FORMATTERS: dict[str, Callable[[Any], str]] = {
    "plain": str,
    "count": count,
    "si": si,
    "mb": megabytes,
    "size": lambda v: f"{v[0]}x{v[1]}",
    "side": lambda v: str(v[0]),
}


def value(words: list[str]) -> str:
    """``totals.params | count`` or ``dec1.crop.0`` from the spec's JSON (stage names as keys)."""
    text = " ".join(words)
    path, _, rest = text.partition("|")
    fmt_words = rest.split()
    fmt = fmt_words[0] if fmt_words else "plain"
    flags = path.split()[1:] + fmt_words[1:]
    data = spec_from_flags(flags).as_dict()
    stages = {s["name"]: s for s in data["stages"]}
    node: Any = data
    for part in path.split()[0].split("."):
        if isinstance(node, list):
            node = node[int(part)]
        elif node is data and part in stages:
            node = stages[part]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise PlaceholderError(f"no {part!r} in {path.split()[0]!r}")
    if fmt not in FORMATTERS:
        raise PlaceholderError(f"unknown format {fmt!r}; use one of {', '.join(FORMATTERS)}")
    return FORMATTERS[fmt](node)


def summary(words: list[str]) -> str:
    return console(["summary", *words])


def cli_reference(words: list[str]) -> str:
    """Every command with its usage, options and help, from the CLI's own parser."""
    from unet_explain.cli import build_parser

    parser = build_parser()
    out = ["```text", parser.format_help().rstrip(), "```", ""]
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in sub.choices.items():
        out += [f"## `unet-explain {name}`", "", command.description or "", "", "```text"]
        out += [command.format_help().rstrip(), "```", ""]
    return "\n".join(out)


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def compare(words: list[str]) -> str:
    """The built-in variants audited side by side, as a markdown table (``unet-explain compare``)."""
    from unet_explain.model.audit import summarise
    from unet_explain.model.variants import VARIANTS, compare_variants

    reports, notes = compare_variants(list(VARIANTS), config_from_flags(words))
    rows = {name: summarise(report) for name, report in reports.items()}
    lines = [_md_row(["", *rows]), "|:---|" + ":---|" * len(rows)]
    for aspect in rows["paper"]:
        cells = []
        for name, summary in rows.items():
            value = summary[aspect]
            cells.append(f"**{value}**" if name != "paper" and value != rows["paper"][aspect] else value)
        lines.append(_md_row([aspect, *cells]))
    lines += ["", *(f"*{name}: {note}.*" for name, note in notes.items() if note)]
    return "\n".join(lines) + "\n"


def audit(words: list[str]) -> str:
    """``unet-explain audit MODEL`` as markdown: what was found, the deviations, the notes, the settings."""
    from unet_explain.model.audit import audit_model, load_model, summarise, title

    if len(words) != 1:
        raise PlaceholderError("audit takes one MODEL (file.py:function or model.keras)")
    with contextlib.chdir(REPO_DIR):
        report = audit_model(load_model(words[0]))
    found = summarise(report)
    lines = ["| Found | |", "|:---|:---|", *(_md_row([k, v]) for k, v in found.items())]
    lines += ["", f"Compared with {report.paper_note}:", ""]
    lines += ["| Aspect | This model | The paper | What it changes |", "|:---|:---|:---|:---|"]
    lines += [_md_row([title(d.aspect), d.found, d.paper, d.meaning]) for d in report.deviations]
    if report.notes:
        lines += ["", "Differences that change nothing:", ""]
        lines += [f"- *{title(n.aspect)}*: {n.text}." for n in report.notes]
    lines += ["", f"Parameters: {report.params_account()}.", ""]
    return "\n".join(lines)


TEXT_KINDS: dict[str, Callable[[list[str]], str]] = {
    "compare": compare,
    "audit": audit,
    "table": table,
    "console": console,
    "sizes": sizes,
    "crops": crops,
    "trace": trace,
    "value": value,
    "summary": summary,
    "cli-reference": cli_reference,
}


# --- figures ----------------------------------------------------------------------


@dataclass(frozen=True)
class Asset:
    """A generated figure: where the site serves it and where the cache keeps it."""

    uri: str
    """Path inside the site, e.g. ``assets/generated/unet-1a2b.svg``."""
    path: Path
    """The cached file."""
    alt: str
    """Alternative text."""


def _diagram_svg(words: list[str]) -> bytes:
    from unet_explain.render.diagram import diagram

    return diagram(config_from_flags(words)).render("svg")


def _tiling_args(words: list[str]) -> tuple[tuple[int, int], list[str]]:
    from unet_explain.config import parse_size

    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    parser.add_argument("--image", required=True)
    args, rest = parser.parse_known_args(words)
    return parse_size(args.image, "image"), rest


def _tiling_svg(words: list[str]) -> bytes:
    from unet_explain.core.tiling import plan_tiles
    from unet_explain.render.tiling_figure import figure_bytes

    image, rest = _tiling_args(words)
    return figure_bytes(plan_tiles(image, spec_from_flags(rest)), "svg")


def _weight_map_png(words: list[str]) -> bytes:
    from unet_explain.loss_weights import PAPER_SIGMA, PAPER_W0, touching_cells, weight_map
    from unet_explain.render.weight_map_figure import weight_map_figure

    if words:
        raise PlaceholderError(f"weight-map takes no arguments; got {words}")
    labels = touching_cells()
    fig = weight_map_figure(labels, weight_map(labels), PAPER_W0, PAPER_SIGMA)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    from matplotlib import pyplot as plt

    plt.close(fig)
    return buffer.getvalue()


FIGURE_KINDS: dict[str, tuple[str, Callable[[list[str]], bytes], Callable[[list[str]], str]]] = {
    "weight-map": (
        ".png",
        _weight_map_png,
        lambda w: "The weight map of the loss on a synthetic image of touching cells",
    ),
    "diagram": (
        ".svg",
        _diagram_svg,
        lambda w: f"The U-Net for {config_from_flags(w).describe()}",
    ),
    "tiling": (
        ".svg",
        _tiling_svg,
        lambda w: f"Overlap-tile plan for a {format_size(_tiling_args(w)[0])} image",
    ),
}


def figure(kind: str, args: str, cache_: Cache) -> Asset:
    suffix, make, alt = FIGURE_KINDS[kind]
    words = shlex.split(args)
    key = cache_.key(kind, args.strip())
    path = cache_.get(key, suffix, lambda: make(words))
    return Asset(uri=f"{ASSET_DIR}/{kind}-{key}{suffix}", path=path, alt=alt(words))


def figures_in(markdown: str, cache_: Cache) -> list[Asset]:
    """Generate (or fetch from the cache) every figure a page asks for."""
    return [
        figure(m.group(1), m.group(2), cache_) for m in PLACEHOLDER.finditer(markdown) if m.group(1) in FIGURE_KINDS
    ]


def expand(markdown: str, page_uri: str, cache_: Cache) -> str:
    """Replace every placeholder of a page; ``page_uri`` (``walkthrough/x.md``) sets relative image links."""

    def replace(match: re.Match[str]) -> str:
        kind, args = match.group(1), match.group(2)
        try:
            if kind in FIGURE_KINDS:
                asset = figure(kind, args, cache_)
                link = posixpath.relpath(asset.uri, posixpath.dirname(page_uri) or ".")
                return f"![{asset.alt}]({link})"
            if kind not in TEXT_KINDS:
                known = ", ".join(sorted([*TEXT_KINDS, *FIGURE_KINDS]))
                raise PlaceholderError(f"unknown placeholder kind {kind!r}; known: {known}")
            return cache_.text(kind, args.strip(), lambda: TEXT_KINDS[kind](shlex.split(args)))
        except UNetExplainError as err:
            raise PlaceholderError(f"{page_uri}: {match.group(0)!r}: {err}") from None

    return PLACEHOLDER.sub(replace, markdown)

"""Fill the documentation's placeholders with tables, numbers and figures made by the package.

The pages under ``docs/`` never contain a pasted number. They contain
placeholders, expanded while the site builds (see :mod:`.hooks`):

==========================================  ===============================================
``{{ table [flags] }}``                     the per-stage table, as markdown
``{{ console ARGS }}``                      ``$ unet-explain ARGS`` and what it prints: its tables as
                                            markdown tables, any other line in a wrapping block
``{{ diagram [--highlight S,S] [flags] }}``  the U diagram (stages or paths highlighted), light and dark
``{{ figure NAME [flags] }}``               a lesson figure (``render.lesson_figures``), light and dark
``{{ tiling --image HxW [flags] }}``        the overlap-tile plan of an image, light and dark
``{{ weight-map }}``                        the loss's weight map on synthetic touching cells
``{{ sizes --min A --max B [flags] }}``     the valid input sizes in a range, as markdown
``{{ crops [flags] }}``                     the copy-and-crop arithmetic, level by level
``{{ trace [flags] }}``                     one side length traced through every layer
``{{ value PATH [| FORMAT] [flags] }}``     one number from the spec's JSON, e.g. ``totals.params | count``
``{{ summary [flags] }}``                   Keras's ``model.summary()`` (imports TensorFlow)
``{{ verify [flags] }}``                    the spec against the built Keras model, layer by layer
``{{ compare [flags] }}``                   the built-in variants audited side by side, as markdown
``{{ audit MODEL }}``                       the audit of a Keras U-Net, as markdown
``{{ source FILE:NAME }}``                  a section (``# --8<-- [start:NAME]``) or function of the package
``{{ cli-reference }}``                     every command and flag, from the CLI's own parser
==========================================  ===============================================

plus ``size-break N`` (where a side of N pixels breaks), ``config-commands`` (which
commands take the config flags, from the parser), ``variant-gap VARIANT`` (a
``compare`` column's parameters against the paper's, broken down) and the derivations of
:mod:`.lesson` (``crop-derivation``, ``size-backwards``, ``stage-params``,
``field-reconcile``, ``site-config``, ``stages``). In flags, ``@input-2`` is the
site's input size minus 2 and ``@next`` the next valid size above it.

**The site's config.** A site is built for one network (``unet-explain docs
build --input-size 508 --in-channels 3``; the paper's by default). Its flags
are the *site flags*; a placeholder's own flags are applied on top of them, so
``{{ table }}`` is the table of the site's network and ``{{ table --depth 3 }}``
changes only the depth. ``--paper`` in a placeholder drops the site flags: the
numbers a page quotes as *the paper's* stay the paper's whatever the site is
built for.

Each expansion is cached under the cache folder by a hash of the package's
own source, the site flags and the placeholder, so a rebuild with no change is
quick and any change to the code or the config produces fresh output.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import html
import importlib
import io
import math
import os
import posixpath
import re
import shlex
import shutil
import subprocess
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from unet_explain.config import UNetConfig, format_size, format_size_arg
from unet_explain.core.spec import UNetSpec, build_spec
from unet_explain.errors import UNetExplainError
from unet_explain.render.formatting import count, megabytes, si

PACKAGE_DIR = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{\{\s*([a-z][a-z-]*)\b(.*?)\}\}", re.S)
ASSET_DIR = "assets/generated"
PAPER_MARK = "--paper"
THEMES = ("light", "dark")


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


@dataclass(frozen=True)
class Site:
    """What a site is built for: the config flags of its network and the folder of its sources."""

    flags: tuple[str, ...] = ()
    """Config flags as pairs (``("--input-size", "508", "--in-channels", "3")``); empty = the paper."""
    root: Path = field(default_factory=lambda: PACKAGE_DIR.parent)
    """The folder holding ``mkdocs.yml`` and ``docs/`` (paths in placeholders are relative to it)."""

    @property
    def config(self) -> UNetConfig:
        return config_from_flags(list(self.flags))

    @property
    def is_paper(self) -> bool:
        return self.config == UNetConfig()


def site_flags(config: UNetConfig) -> tuple[str, ...]:
    """The flags (in pairs) that select ``config``; only the settings that differ from the paper."""
    paper = UNetConfig()
    flags: list[str] = []
    for name, value in config.as_dict().items():
        if value == getattr(paper, name) or (name == "input_size" and tuple(value) == paper.input_size):
            continue
        text = format_size_arg(tuple(value)) if name == "input_size" else str(value)
        flags += ["--" + name.replace("_", "-"), text]
    return tuple(flags)


class Cache:
    """Expanded placeholders on disk, keyed by the package fingerprint, the site flags and the placeholder."""

    def __init__(self, folder: Path, site: Site | None = None) -> None:
        self.folder = folder
        self.site = site or Site()
        self.hits = 0
        self.misses = 0

    def key(self, *parts: str) -> str:
        text = "\0".join((fingerprint(), shlex.join(self.site.flags), *parts))
        return hashlib.sha256(text.encode()).hexdigest()[:20]

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
    """A config from CLI configuration flags (``--input-size 188 --depth 3``); later flags win."""
    from unet_explain.cli import config_from_args

    try:
        args, rest = _config_parser().parse_known_args(words)
    except argparse.ArgumentError as err:
        raise PlaceholderError(str(err)) from None
    if rest:
        raise PlaceholderError(f"unknown words {rest}")
    return config_from_args(args)


# Site flags a command does not inherit: ``sizes`` depends on the depth and the padding only; it
# needs no input size (and the site's may be invalid under the placeholder's own flags, e.g. 508
# with --padding same).
NOT_INHERITED = {"sizes": frozenset({"--input-size", "--in-channels", "--num-classes", "--base-filters"})}


def with_site(words: list[str], site: Site, command: str = "") -> list[str]:
    """A placeholder's flags on top of the site's; ``--paper`` drops the site's flags.

    ``command`` names the CLI command the flags are for; the site flags it does not
    inherit (:data:`NOT_INHERITED`) are left out.
    """
    words = _size_tokens(words, site)
    if PAPER_MARK in words:
        return [w for w in words if w != PAPER_MARK]
    given = {w.split("=", 1)[0] for w in words if w.startswith("--")} | NOT_INHERITED.get(command, frozenset())
    pairs = zip(site.flags[::2], site.flags[1::2], strict=True)
    return [w for flag, value in pairs if flag not in given for w in (flag, value)] + words


def spec_for(words: list[str], site: Site) -> UNetSpec:
    """The spec a placeholder's flags select on this site."""
    return build_spec(config_from_flags(with_site(words, site)))


def stage_alias(name: str, spec: UNetSpec) -> str:
    """``encD``/``decD`` name the deepest level, so pages work for any depth."""
    depth = str(spec.config.depth)
    return {"encD": "enc" + depth, "decD": "dec" + depth}.get(name, name)


def split_option(words: list[str], option: str) -> tuple[str | None, list[str]]:
    """Take ``--option VALUE`` out of ``words``."""
    if option not in words:
        return None, words
    i = words.index(option)
    if i + 1 >= len(words):
        raise PlaceholderError(f"{option} needs a value")
    return words[i + 1], words[:i] + words[i + 2 :]


# --- the expansions ---------------------------------------------------------------


def _takes_config(command: str) -> bool:
    from unet_explain.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found = sub.choices.get(command)
    return found is not None and any("--input-size" in a.option_strings for a in found._actions)


_SIZE_TOKEN = re.compile(r"@(input|next)([+-]\d+)?")


def _size_tokens(words: list[str], site: Site) -> list[str]:
    """``@input-2``: the site's input size minus 2; ``@next``: the next valid size above it.

    So an example of a bad size stays bad, and of the next size stays valid, on a site built for any network.
    """
    from unet_explain.core.arithmetic import valid_sides

    config = site.config

    def side(n: int, which: str) -> int:
        if which == "input":
            return n
        return valid_sides(n + 1, n + 2 ** (config.depth + 1), config.depth, config.padding)[0]

    def sub(match: re.Match[str]) -> str:
        delta = int(match.group(2) or 0)
        h, w = (side(n, match.group(1)) + delta for n in config.input_size)
        return format_size_arg((h, w))

    return [_SIZE_TOKEN.sub(sub, w) for w in words]


class _Recorder(io.StringIO):
    """stdout/stderr of a CLI run, cut into blocks wherever a rich renderable was printed."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[tuple[str, Any]] = []

    def flush_text(self) -> None:
        text = self.getvalue()
        if text.strip():
            self.blocks.append(("text", text))
        self.seek(0)
        self.truncate()


def console_block(lines: str) -> str:
    """Terminal text in a block that wraps its long lines instead of running off the page."""
    return f'<pre class="unet-console"><code>{html.escape(lines.rstrip())}</code></pre>\n'


def console(words: list[str], site: Site) -> str:
    """``$ unet-explain WORDS`` and its output: tables as markdown tables, other text wrapped."""
    from unet_explain import cli
    from unet_explain.docs import richmd

    words = _size_tokens(words, site)
    if words and _takes_config(words[0]):
        words = [words[0], *with_site(words[1:], site, words[0])]
    else:
        words = [w for w in words if w != PAPER_MARK]
    recorder = _Recorder()

    def capture(renderable: Any) -> None:
        recorder.flush_text()
        recorder.blocks.append(("rich", renderable))

    real = cli._print_wide
    cli._print_wide = capture
    try:
        with (
            contextlib.redirect_stdout(recorder),
            contextlib.redirect_stderr(recorder),
            contextlib.suppress(SystemExit),
            contextlib.chdir(site.root),
        ):
            cli.main(words)
    finally:
        cli._print_wide = real
    recorder.flush_text()
    command = f"$ unet-explain {shlex.join(words)}\n"
    if recorder.blocks and recorder.blocks[0][0] == "text":  # the command and what it printed, in one block
        recorder.blocks[0] = ("text", command + recorder.blocks[0][1])
    else:
        recorder.blocks.insert(0, ("text", command))
    out = []
    for kind, block in recorder.blocks:
        out.append(console_block(block) if kind == "text" else stage_table(richmd.to_markdown(block)))
    return "\n".join(out)


def stage_table(markdown: str) -> str:
    """The per-stage table in a box that the stylesheet sets smaller, so its ten columns fit."""
    return f'<div class="unet-stage-table" markdown>\n\n{markdown}\n</div>\n'


def table(words: list[str], site: Site) -> str:
    from unet_explain.render.text_formats import to_markdown

    return stage_table(to_markdown(spec_for(words, site)))


def sizes(words: list[str], site: Site) -> str:
    from unet_explain.core.sizes import valid_size_table

    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    parser.add_argument("--min", type=int, required=True)
    parser.add_argument("--max", type=int, required=True)
    args, rest = parser.parse_known_args(_size_tokens(words, site))
    # The same rules as ``unet-explain sizes``: no input size needed, the site's is not inherited.
    from unet_explain.cli import config_from_args
    from unet_explain.config import validate_settings

    try:
        flags, unknown = _config_parser().parse_known_args(with_site(rest, site, "sizes"))
    except argparse.ArgumentError as err:
        raise PlaceholderError(str(err)) from None
    if unknown:
        raise PlaceholderError(f"unknown words {unknown}")
    if flags.input_size is not None:
        config_from_args(flags)  # a given size is still checked
    settings = UNetConfig().as_dict() | {k: v for k, v in vars(flags).items() if v is not None}
    validate_settings(*(settings[k] for k in ("depth", "in_channels", "num_classes", "base_filters", "padding")))
    found = valid_size_table(args.min, args.max, depth=settings["depth"], padding=settings["padding"])
    lines = [
        "| Input tile | Output map | Context margin per side | Entering the bottleneck |",
        "|---:|---:|---:|---:|",
    ]
    lines += [f"| {r.input} | {r.output} | {r.margin} | {r.bottleneck} |" for r in found.rows]
    return "\n".join(lines) + "\n"


def crops(words: list[str], site: Site) -> str:
    spec = spec_for(words, site)
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


def trace(words: list[str], site: Site) -> str:
    """One side length through every layer: ``572 → 570 → 568 ⇣ 284 …``."""
    spec = spec_for(words, site)
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


def _and_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


FORMATTERS: dict[str, Callable[[Any], str]] = {
    "plain": str,
    "count": count,
    "si": si,
    "mb": megabytes,
    "size": lambda v: f"{v[0]}x{v[1]}",
    "side": lambda v: str(v[0]),
    "size-arg": lambda v: format_size_arg(tuple(v)),  # as the CLI takes it: 508, or 508x636
    "list": lambda v: _and_list([str(x) for x in v]),
    "he3": lambda v: f"sqrt(2 / (9 · {v})) ≈ {math.sqrt(2 / (9 * v)):.3f}",  # the paper's init for a 3x3 conv
    "twice": lambda v: str(2 * v),
    "channels": lambda v: f"{v} channel" if v == 1 else f"{v} channels",
}


def spec_value(spec: UNetSpec, path: str) -> Any:
    """``totals.params``, ``dec1.crop.0`` or ``crops`` (the crops per side, deepest first) from the spec's JSON."""
    data = spec.as_dict()
    stages = {s["name"]: s for s in data["stages"]}
    if path == "crops":
        return [s.crop[0] for s in spec.stages if s.crop is not None]
    node: Any = data
    for part in path.split("."):
        part = stage_alias(part, spec)
        if isinstance(node, list):
            node = node[int(part)]
        elif node is data and part in stages:
            node = stages[part]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise PlaceholderError(f"no {part!r} in {path!r}")
    return node


def value(words: list[str], site: Site) -> str:
    """``totals.params | count`` or ``dec1.crop.0`` from the spec's JSON (stage names as keys)."""
    text = " ".join(words)
    path, _, rest = text.partition("|")
    fmt_words = rest.split()
    fmt = fmt_words[0] if fmt_words else "plain"
    flags = path.split()[1:] + fmt_words[1:]
    node = spec_value(spec_for(flags, site), path.split()[0])
    if fmt not in FORMATTERS:
        raise PlaceholderError(f"unknown format {fmt!r}; use one of {', '.join(FORMATTERS)}")
    return FORMATTERS[fmt](node)


def summary(words: list[str], site: Site) -> str:
    """Keras's own ``model.summary()``, at the width that shows every column, in a scrolling block."""
    from unet_explain.model.keras_unet import build_model

    config = config_from_flags(with_site(words, site))
    lines: list[str] = []
    width = "110"  # Keras lays the summary out with rich, at the width of $COLUMNS: wide enough for "Connected to"
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = width
    try:
        build_model(config).summary(line_length=int(width), print_fn=lambda line, **_: lines.append(line))
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    body = "\n".join(line.rstrip() for line in "\n".join(lines).splitlines())
    flags = shlex.join(["summary", *with_site(words, site)])
    return (
        console_block(f"$ unet-explain {flags}") + f'\n<pre class="unet-wide"><code>{html.escape(body)}</code></pre>\n'
    )


def verify(words: list[str], site: Site) -> str:
    """The spec against the built Keras model, as a markdown table (imports TensorFlow)."""
    from unet_explain.docs import richmd
    from unet_explain.model.verify import verify as verify_model
    from unet_explain.render.terminal import verify_table

    report = verify_model(config_from_flags(with_site(words, site)))
    return richmd.to_markdown(verify_table(report))


def cli_reference(words: list[str], site: Site) -> str:
    """Every command with its usage, options and help, from the CLI's own parser."""
    from unet_explain.cli import build_parser

    parser = build_parser()
    out = ["```text", parser.format_help().rstrip(), "```", ""]
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in sub.choices.items():
        out += [f"## `unet-explain {name}`", "", command.description or "", "", "```text"]
        out += [command.format_help().rstrip(), "```", ""]
    return "\n".join(out)


def size_break(words: list[str], site: Site) -> str:
    """``size-break N [flags]``: where a side of N pixels breaks (``enc2_pool receives 279 pixels``), or "valid"."""
    from unet_explain.core.arithmetic import nearest_valid_sides, side_break

    words = _size_tokens(words, site)
    if not words or not words[0].isdigit():
        raise PlaceholderError("size-break takes a side N, then config flags")
    config = config_from_flags(with_site(words[1:], site))
    side = int(words[0])
    found = side_break(side, config.depth, config.padding)
    if found is None:
        return f"{side} is valid"
    near = [str(n) for n in nearest_valid_sides(side, config.depth, config.padding) if n is not None]
    return f"{side}: `{found.layer}` receives {found.size} pixels ({found.rule}); nearest valid: {_and_list(near)}"


def config_commands(words: list[str], site: Site) -> str:
    """Which commands take the configuration flags, read from the CLI's own parser."""
    from unet_explain.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    takes = [name for name in sub.choices if _takes_config(name)]
    others = [name for name in sub.choices if name not in takes]
    text = (
        f"The commands that describe one network ({_and_list([f'`{n}`' for n in takes])}) take the "
        "configuration flags `--input-size`, `--in-channels`, `--num-classes`, `--depth`, `--base-filters` "
        "and `--padding` (defaults: the paper's network)"
    )
    if others:
        one = len(others) == 1
        verb, pronoun = ("does", "it works on what you give it") if one else ("do", "they work on what you give them")
        text += f"; {_and_list([f'`{n}`' for n in others])} {verb} not: {pronoun}, not on a network's configuration"
    return text + "."


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def compare(words: list[str], site: Site) -> str:
    """The built-in variants audited side by side, as a markdown table (``unet-explain compare``)."""
    from unet_explain.model.audit import COMPARE_LEGEND, row_kinds, summarise
    from unet_explain.model.variants import VARIANTS, compare_variants

    reports, notes = compare_variants(list(VARIANTS), config_from_flags(with_site(words, site)))
    rows = {name: summarise(report) for name, report in reports.items()}
    kinds = {name: row_kinds(report, rows["paper"]) for name, report in reports.items()}
    mark = {"deviation": "**{}**", "note": "*{}*", "": "{}"}
    lines = [_md_row(["", *rows]), "|:---|" + ":---|" * len(rows)]
    for aspect in rows["paper"]:
        cells = [mark[kinds[name][aspect]].format(summary[aspect]) for name, summary in rows.items()]
        lines.append(_md_row([aspect, *cells]))
    legend = COMPARE_LEGEND.replace("bold", "**Bold**", 1).replace("italic", "*italic*", 1)
    lines += ["", f"{legend}.", "", *(f"*{name}: {note}.*" for name, note in notes.items() if note)]
    return "\n".join(lines) + "\n"


def variant_gap(words: list[str], site: Site) -> str:
    """Why a variant's column in ``compare`` has more parameters than the paper's network, broken down.

    The paper's own count (its config) against the variant built for the site's config: the
    part the site's network itself adds (spec arithmetic: channels, classes, widths, depth) plus
    each part the audit attributes to the variant's layers (``params_by_aspect``). The parts must
    add up to the difference, or the page does not build.
    """
    from unet_explain.model.audit import audit_model
    from unet_explain.model.audit.aspects import ASPECTS
    from unet_explain.model.variants import build_variant

    if not words:
        raise PlaceholderError("variant-gap takes a VARIANT name, then config flags")
    name, rest = words[0], words[1:]
    config = config_from_flags(with_site(rest, site))
    paper = build_spec(UNetConfig()).totals.params
    own = build_spec(config).totals.params
    model, _, _ = build_variant(name, config)
    report = audit_model(model, reference=config)
    base = UNetConfig()
    labels = {
        "in_channels": "input channels",
        "num_classes": "classes",
        "depth": "depth",
        "base_filters": "base filters",
    }
    changed = ", ".join(
        f"{label} {getattr(config, key)} instead of {getattr(base, key)}"
        for key, label in labels.items()
        if getattr(config, key) != getattr(base, key)
    )
    parts = [(f"{count(own - paper)} from this site's network ({changed})", own - paper)]
    parts += [
        (f"{count(n)} from {ASPECTS[key].title if key in ASPECTS else key.replace('_', ' ')}", n)
        for key, n in report.param_sources.items()
    ]
    parts = [(text, n) for text, n in parts if n]
    gap = report.params - paper
    if sum(n for _, n in parts) != gap:
        raise PlaceholderError(f"the parts {parts} do not add up to the difference {gap}")
    text = (
        f"The `{name}` column of the table above has {count(report.params)} parameters, "
        f"{count(abs(gap))} {'more' if gap >= 0 else 'fewer'} than the paper's {count(paper)}"
    )
    if not parts:
        return text + "."
    return text + ": " + _and_list([t for t, _ in parts]) + "."


def audit(words: list[str], site: Site) -> str:
    """``unet-explain audit MODEL`` as markdown: what was found, the deviations, the notes, the settings."""
    from unet_explain.model.audit import audit_model, load_model, summarise, title

    if len(words) != 1:
        raise PlaceholderError("audit takes one MODEL (file.py:function or model.keras)")
    with contextlib.chdir(site.root):  # a file named in a page is relative to the site's sources
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


_MARKER = re.compile(r"^\s*# --8<-- \[(start|end):([\w-]+)\]\s*$")


def source_lines(file: str, name: str) -> tuple[int, list[str]]:
    """The first line number and the lines of section ``name`` (``# --8<-- [start:name]``) or function ``name``."""
    path = (PACKAGE_DIR / file).resolve()
    if not path.is_relative_to(PACKAGE_DIR) or path.suffix != ".py" or not path.is_file():
        raise PlaceholderError(f"no package file {file!r} (paths are relative to unet_explain/)")
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == f"# --8<-- [start:{name}]"), None)
    if start is not None:
        end = next((i for i in range(start, len(lines)) if lines[i].strip() == f"# --8<-- [end:{name}]"), None)
        if end is None:
            raise PlaceholderError(f"{file}: section {name!r} has no end marker")
        body = [(i + 1, line) for i, line in enumerate(lines[start + 1 : end], start + 1)]
    else:
        tree = ast.parse("\n".join(lines))
        found = next(
            (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef) and n.name == name), None
        )
        if found is None or found.end_lineno is None:
            raise PlaceholderError(f"{file}: no section or function {name!r}")
        first = min([found.lineno, *(d.lineno for d in found.decorator_list)])
        body = [(i, lines[i - 1]) for i in range(first, found.end_lineno + 1)]
    kept = [(n, line) for n, line in body if not _MARKER.match(line)]
    return kept[0][0], textwrap.dedent("\n".join(line for _, line in kept)).splitlines()


def source(words: list[str], site: Site) -> str:
    """A section or function of the package's own source, as a titled code block (never pasted)."""
    if len(words) != 1 or ":" not in words[0]:
        raise PlaceholderError("source takes FILE:NAME, e.g. model/keras_unet.py:conv3x3")
    file, name = words[0].rsplit(":", 1)
    first, lines = source_lines(file, name)
    title = f"unet_explain/{file}, line {first}"
    return f'```python title="{title}" linenums="{first}"\n' + "\n".join(lines) + "\n```\n"


def _lesson(name: str) -> Callable[[list[str], Site], str]:
    def run(words: list[str], site: Site) -> str:
        from unet_explain.docs import lesson

        result: str = lesson.KINDS[name](words, site)
        return result

    return run


TEXT_KINDS: dict[str, Callable[[list[str], Site], str]] = {
    "compare": compare,
    "variant-gap": variant_gap,
    "audit": audit,
    "table": table,
    "console": console,
    "sizes": sizes,
    "crops": crops,
    "trace": trace,
    "value": value,
    "summary": summary,
    "verify": verify,
    "source": source,
    "cli-reference": cli_reference,
    "config-commands": config_commands,
    "size-break": size_break,
    **{
        name: _lesson(name)
        for name in ("crop-derivation", "size-backwards", "stage-params", "field-reconcile", "site-config", "stages")
    },
}


# --- figures ----------------------------------------------------------------------


@dataclass(frozen=True)
class Asset:
    """A generated figure: where the site serves it and where the cache keeps it."""

    uri: str
    """Path inside the site, e.g. ``assets/generated/diagram-1a2b-dark.svg``."""
    path: Path
    """The cached file."""
    alt: str
    """Alternative text."""
    theme: str = "light"
    """``light`` or ``dark``: the colour scheme it is drawn for."""

    @property
    def viewer_uri(self) -> str:
        """The page that shows the figure enlarged (``...-dark.svg`` -> ``...-dark.html``)."""
        return posixpath.splitext(self.uri)[0] + ".html"


# The background of the enlarged view: Material's own page colours for its two schemes
# (default: white; slate: hsl(232, 15%, 14%)), so a dark drawing (transparent, light text) stays readable.
VIEWER_COLOURS = {"light": ("#ffffff", "#000000de", "#3f51b5"), "dark": ("#1e2029", "#e2e4e9", "#9fa8da")}


def viewer_html(asset: Asset) -> str:
    """A small page showing one figure at its natural size: scrollable, pinch-zoomable, with a way back.

    The bare SVG would open on the browser's white canvas, zoomed out to fit a phone;
    this page keeps the drawing's own size and the theme's background.
    """
    background, text, link = VIEWER_COLOURS[asset.theme]
    name = posixpath.basename(asset.uri)
    alt = html.escape(asset.alt)
    home = "../" * (ASSET_DIR.count("/") + 1)  # the site's home, if there is no page to go back to
    back = "if (history.length > 1) { history.back(); return false; }"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="{asset.theme}">
<title>{alt}</title>
<style>
html, body {{ margin: 0; background: {background}; color: {text}; font-family: system-ui, sans-serif; }}
nav {{ position: sticky; left: 0; padding: 0.6em 1em; font-size: 1rem; }}
nav a {{ color: {link}; }}
main {{ padding: 0 1em 1em; }}
img {{ display: block; max-width: none; height: auto; }}
p {{ margin: 0.3em 0 0.8em; font-size: 0.9rem; }}
</style>
</head>
<body>
<nav><a href="{home}" onclick="{back}">&larr; Back</a></nav>
<main>
<p>{alt}. Scroll or pinch to zoom.</p>
<img class="unet-enlarged" src="{name}" alt="{alt}">
</main>
</body>
</html>
"""


@contextlib.contextmanager
def _matplotlib_theme(theme: str) -> Iterator[None]:
    """Matplotlib's dark style on the dark scheme's background colour, or the default style."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    if theme != "dark":
        yield
        return
    dark = "#1e2129"
    with plt.style.context(
        ["dark_background", {"figure.facecolor": dark, "axes.facecolor": dark, "savefig.facecolor": dark}]
    ):
        yield


def _diagram_svg(words: list[str], site: Site, theme: str) -> bytes:
    from unet_explain.render.diagram import diagram

    wanted, rest = split_option(words, "--highlight")
    spec = spec_for(rest, site)
    highlight = highlight_names(wanted, spec) if wanted else None
    return diagram(spec, highlight=highlight, theme=theme).render("svg")


def highlight_names(text: str, spec: UNetSpec) -> list[str]:
    """``enc1,encD``, or a path (``contracting``, ``expansive``), as stage names of ``spec``."""
    names: list[str] = []
    stage_names = [s.name for s in spec.stages]
    for word in text.split(","):
        word = stage_alias(word.strip(), spec)
        by_path = [s.name for s in spec.stages if s.path == word]
        if by_path:
            names += by_path
        elif word in stage_names:
            names.append(word)
        else:
            raise PlaceholderError(f"--highlight {word!r} is neither a stage ({', '.join(stage_names)}) nor a path")
    return names


def _tiling_args(words: list[str]) -> tuple[tuple[int, int], list[str]]:
    from unet_explain.config import parse_size

    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    parser.add_argument("--image", required=True)
    args, rest = parser.parse_known_args(words)
    return parse_size(args.image, "image"), rest


def _tiling_svg(words: list[str], site: Site, theme: str) -> bytes:
    from unet_explain.core.tiling import plan_tiles
    from unet_explain.render.tiling_figure import figure_bytes

    image, rest = _tiling_args(words)
    with _matplotlib_theme(theme):
        return figure_bytes(plan_tiles(image, spec_for(rest, site)), "svg", theme)


def _weight_map_png(words: list[str], site: Site, theme: str) -> bytes:
    from unet_explain.loss_weights import PAPER_SIGMA, PAPER_W0, touching_cells, weight_map
    from unet_explain.render.weight_map_figure import weight_map_figure

    if words:
        raise PlaceholderError(f"weight-map takes no arguments; got {words}")
    labels = touching_cells()
    with _matplotlib_theme(theme):
        fig = weight_map_figure(labels, weight_map(labels), PAPER_W0, PAPER_SIGMA)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", metadata={"Software": None})
    from matplotlib import pyplot as plt

    plt.close(fig)
    return buffer.getvalue()


def _lesson_svg(words: list[str], site: Site, theme: str) -> bytes:
    if not words:
        raise PlaceholderError("figure takes a NAME, then config flags")
    try:
        LESSON_FIGURES = importlib.import_module("unet_explain.render.lesson_figures").LESSON_FIGURES
    except ImportError:
        raise PlaceholderError("the lesson figures (unet_explain.render.lesson_figures) are not installed") from None
    if words[0] not in LESSON_FIGURES:
        raise PlaceholderError(f"no lesson figure {words[0]!r}; known: {', '.join(sorted(LESSON_FIGURES))}")
    svg: bytes = LESSON_FIGURES[words[0]](spec_for(words[1:], site), theme)
    return svg


def _lesson_alt(words: list[str], site: Site) -> str:
    """The lesson figure's own description, with the numbers of the site's network."""
    if not words:
        raise PlaceholderError("figure takes a NAME, then config flags")
    try:
        figures = importlib.import_module("unet_explain.render.lesson_figures").LESSON_FIGURES
    except ImportError:
        raise PlaceholderError("the lesson figures (unet_explain.render.lesson_figures) are not installed") from None
    if words[0] not in figures:
        raise PlaceholderError(f"no lesson figure {words[0]!r}; known: {', '.join(sorted(figures))}")
    return str(figures[words[0]].alt(spec_for(words[1:], site)))


def _diagram_alt(words: list[str], site: Site) -> str:
    wanted, rest = split_option(words, "--highlight")
    spec = spec_for(rest, site)
    text = f"The U-Net for {spec.config.describe()}"
    return text + (f"; highlighted: {', '.join(highlight_names(wanted, spec))}" if wanted else "")


@dataclass(frozen=True)
class FigureKind:
    """How to draw one kind of figure, in either theme."""

    suffix: str
    make: Callable[[list[str], Site, str], bytes]
    alt: Callable[[list[str], Site], str]


FIGURE_KINDS: dict[str, FigureKind] = {
    "weight-map": FigureKind(
        ".png", _weight_map_png, lambda w, s: "The weight map of the loss on a synthetic image of touching cells"
    ),
    "diagram": FigureKind(".svg", _diagram_svg, _diagram_alt),
    "tiling": FigureKind(
        ".svg",
        _tiling_svg,
        lambda w, s: f"Overlap-tile plan for a {format_size(_tiling_args(w)[0])} image",
    ),
    "figure": FigureKind(".svg", _lesson_svg, _lesson_alt),
}


def figure(kind: str, args: str, cache_: Cache) -> list[Asset]:
    """The light and the dark drawing of one figure placeholder (made or taken from the cache)."""
    spec = FIGURE_KINDS[kind]
    words = shlex.split(args)
    key = cache_.key(kind, args.strip())
    alt = spec.alt(words, cache_.site)
    assets = []
    for theme in THEMES:
        path = cache_.get(f"{key}-{theme}", spec.suffix, lambda t=theme: spec.make(words, cache_.site, t))  # type: ignore[misc]
        assets.append(Asset(f"{ASSET_DIR}/{kind}-{key}-{theme}{spec.suffix}", path, alt, theme))
    return assets


def figures_in(markdown: str, cache_: Cache) -> list[Asset]:
    """Generate (or fetch from the cache) every figure a page asks for, both themes."""
    return [
        asset
        for m in PLACEHOLDER.finditer(markdown)
        if m.group(1) in FIGURE_KINDS
        for asset in figure(m.group(1), m.group(2), cache_)
    ]


def page_folder(page_uri: str, page_url: str | None = None) -> str:
    """The folder a page is served from: ``walkthrough/costs.md`` is ``walkthrough/costs/index.html``.

    Raw HTML links are not rewritten by MkDocs, so figure links are made relative to where the page is served.
    """
    if page_url is not None:
        folder = page_url if page_url.endswith("/") or not page_url else posixpath.dirname(page_url)
    else:
        stem, name = posixpath.splitext(page_uri)[0], posixpath.basename(page_uri)
        folder = posixpath.dirname(page_uri) if name in ("index.md", "README.md") else stem
    return folder.strip("/") or "."


# Figures too detailed to read when shrunk to a phone's width (the U: ~1100 pt wide, small labels).
WIDE_FIGURES = frozenset({"diagram"})


def figure_markdown(assets: list[Asset], page_uri: str, page_url: str | None = None, wide: bool = False) -> str:
    """A figure shown in the scheme's colours; a tap or click opens it enlarged on a page of its own.

    A ``wide`` figure sits in its own horizontal scroll box, which the stylesheet gives a
    minimum width on narrow screens, so its labels stay readable there.
    """
    here = page_folder(page_uri, page_url)
    images = []
    for asset in assets:
        link = posixpath.relpath(asset.uri, here)
        viewer = posixpath.relpath(asset.viewer_uri, here)
        images.append(
            f'<a class="unet-figure-link" href="{viewer}" title="Open the figure at full size">'
            f'<img src="{link}#only-{asset.theme}" alt="{html.escape(asset.alt)}"></a>'
        )
    caption = html.escape(assets[0].alt)
    body = "\n".join(images)
    if wide:
        body = f'<div class="unet-figure-scroll">\n{body}\n</div>'
    return (
        f'<figure class="unet-figure{" unet-figure--wide" if wide else ""}">\n'
        + body
        + f'\n<figcaption>{caption} <span class="unet-hint">(tap to enlarge)</span></figcaption>\n</figure>'
    )


def expand(markdown: str, page_uri: str, cache_: Cache, page_url: str | None = None) -> str:
    """Replace every placeholder of a page; ``page_uri`` (``walkthrough/x.md``) and the page's URL (default:
    directory URLs, ``walkthrough/x/``) set relative image links."""

    def replace(match: re.Match[str]) -> str:
        kind, args = match.group(1), match.group(2)
        try:
            if kind in FIGURE_KINDS:
                return figure_markdown(figure(kind, args, cache_), page_uri, page_url, kind in WIDE_FIGURES)
            if kind not in TEXT_KINDS:
                known = ", ".join(sorted([*TEXT_KINDS, *FIGURE_KINDS]))
                raise PlaceholderError(f"unknown placeholder kind {kind!r}; known: {known}")
            return cache_.text(kind, args.strip(), lambda: TEXT_KINDS[kind](shlex.split(args), cache_.site))
        except UNetExplainError as err:
            raise PlaceholderError(f"{page_uri}: {match.group(0)!r}: {err}") from None

    return PLACEHOLDER.sub(replace, markdown)

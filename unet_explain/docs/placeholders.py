"""Fill the documentation's placeholders with tables, numbers and figures made by the package.

The pages under ``docs/`` never contain a pasted number. They contain
placeholders, expanded while the site builds (see :mod:`.hooks`); this module is their grammar:

==========================================  ===============================================
``{{ table [flags] }}``                     the per-stage table, as markdown
``{{ console ARGS }}``                      ``$ unet-explain ARGS`` and what it prints: its tables as
                                            markdown tables, any other line in a wrapping block
``{{ diagram [--highlight S,S] [flags] }}``  the U diagram (stages or paths highlighted), light and dark
``{{ figure NAME [flags] }}``               a teaching figure (``render.figures``), light and dark
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
``{{ memory-table [flags] }}``              a training step's and a forward pass's bytes, broken down
``{{ memory-check }}``                      the recorded predicted-against-measured run of the benchmark
``{{ nnunet-compare [flags] }}``            our count of a training step beside nnU-Net's rule, per tile
==========================================  ===============================================

plus ``volume PART`` (the page "From 2D to 3D": ``table``, ``trace``, ``crops``, ``rules``,
``memory``, ``small``, ``params``), ``size-break N`` (where a side of N pixels breaks), ``config-commands`` (which
commands take the config flags, from the parser), ``variant-gap VARIANT`` (a
``compare`` column's parameters against the paper's, broken down) and the derivations of
:mod:`.lesson` (``crop-derivation``, ``size-backwards``, ``stage-params``,
``field-reconcile``, ``site-config``, ``stages``, ``field-widths``, ``bottleneck-cost``). In flags, ``@input-2`` is the
site's input size minus 2 and ``@next`` the next valid size above it.

**Text written per case.** A sentence that holds for one kind of network only is written for each case:
``{{ if padding=valid }}...{{ else }}...{{ end }}`` keeps the part whose condition the site's network meets
(``padding``, ``depth``, ``in_channels``, ``num_classes``, ``base_filters`` or ``dims``, 2 or 3; no nesting).

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

import re
import shlex
from collections.abc import Callable

from unet_explain.docs.assets import WIDE_FIGURES, Asset, figure_markdown
from unet_explain.docs.cache import Cache
from unet_explain.docs.capture import cli_reference, config_commands, console
from unet_explain.docs.figures import FIGURE_KINDS, figure
from unet_explain.docs.keras_pages import audit, compare, summary, variant_gap, verify
from unet_explain.docs.memory_pages import memory_check, memory_table, nnunet_compare
from unet_explain.docs.numbers import crops, size_break, sizes, table, trace, value
from unet_explain.docs.site_config import PlaceholderError, Site
from unet_explain.docs.source import source
from unet_explain.docs.volume_page import volume
from unet_explain.errors import UNetExplainError

PLACEHOLDER = re.compile(r"\{\{\s*([a-z][a-z-]*)\b(.*?)\}\}", re.S)
CONDITION = re.compile(
    r"\{\{\s*if\s+(\w+)\s*=\s*(\w+)\s*\}\}(.*?)(?:\{\{\s*else\s*\}\}(.*?))?\{\{\s*end\s*\}\}", re.S
)
CONDITION_FIELDS = ("padding", "depth", "in_channels", "num_classes", "base_filters", "dims", "norm")


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
    "memory-table": memory_table,
    "memory-check": memory_check,
    "nnunet-compare": nnunet_compare,
    "volume": volume,
    **{
        name: _lesson(name)
        for name in (
            "crop-derivation",
            "size-backwards",
            "stage-params",
            "field-reconcile",
            "site-config",
            "stages",
            "field-widths",
            "bottleneck-cost",
        )
    },
}


def choose_cases(markdown: str, site: Site) -> str:
    """Keep, of each ``{{ if FIELD=VALUE }}...{{ else }}...{{ end }}``, the part the site's network meets."""
    config = {**site.config.as_dict(), "dims": site.config.dims, "norm": site.config.norm or "none"}

    def pick(match: re.Match[str]) -> str:
        name, wanted, then, otherwise = match.groups()
        if name not in CONDITION_FIELDS:
            raise PlaceholderError(f"{{{{ if {name}=... }}}}: the condition names one of {', '.join(CONDITION_FIELDS)}")
        return then if str(config[name]) == wanted else (otherwise or "")

    return CONDITION.sub(pick, markdown)


def figures_in(markdown: str, cache_: Cache) -> list[Asset]:
    """Generate (or fetch from the cache) every figure a page asks for, both themes."""
    return [
        asset
        for m in PLACEHOLDER.finditer(choose_cases(markdown, cache_.site))
        if m.group(1) in FIGURE_KINDS
        for asset in figure(m.group(1), m.group(2), cache_)
    ]


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

    return PLACEHOLDER.sub(replace, choose_cases(markdown, cache_.site))

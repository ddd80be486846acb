"""The placeholders that build Keras models: ``summary``, ``verify``, ``compare``, ``variant-gap``, ``audit``.

Each imports TensorFlow when it is expanded; a page that has none of them
builds no Keras model. A site builds each model it needs once: ``summary`` and
``verify`` read one build of the network, ``compare`` and ``variant-gap`` one
build of each variant, and every model is built without drawing its initial
weights (:func:`~unet_explain.model.keras_unet.weights_left_unset`), which no
page shows.
"""

from __future__ import annotations

import contextlib
import html
import os
import shlex
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from unet_explain.config import UNetConfig
from unet_explain.core.spec import build_spec
from unet_explain.docs.markup import and_list, console_block, md_row
from unet_explain.docs.site_config import PlaceholderError, Site, config_from_flags, with_site
from unet_explain.render.formatting import count

if TYPE_CHECKING:
    from unet_explain.model.verify import VerifyReport

def _variants_config(words: list[str], site: Site) -> tuple[UNetConfig, str]:
    """The config the 2D variants are built for, and a note when it is not the site's own network.

    The variants are 2D U-Nets in the 2D paper's form; on a site built for a volume they are compared
    on the rows and columns of its network, with the 2D paper's channels and no normalisation.
    """
    config = config_from_flags(with_site(words, site))
    if config.dims == 2 and config.channel_schedule == "double_per_level" and config.norm is None:
        return config, ""
    from unet_explain.config import format_size, in_plane

    plane = UNetConfig(**(in_plane(config).as_dict() | {"channel_schedule": "double_per_level", "norm": None}))
    note = (
        f"The variants are 2D U-Nets in the 2D paper's form: this site's network ({format_size(config.input_size)}, "
        f"{config.channel_schedule.replace('_', ' ')}{', batch norm' if config.norm else ''}) is compared here as "
        f"{plane.describe()}."
    )
    return plane, note


SUMMARY_WIDTH = 110
"""Keras lays the summary out with rich, at the width of $COLUMNS: wide enough for "Connected to"."""


@lru_cache(maxsize=8)
def _network(config: UNetConfig) -> tuple[str, VerifyReport]:
    """One build of the paper's network for ``config``: Keras's summary text, and the spec's check against it and
    against the independently written model (what ``unet-explain verify`` checks)."""
    from unet_explain.core.budget import check_memory
    from unet_explain.model.keras_unet import build_model, weights_left_unset
    from unet_explain.model.reference_unet import build_reference
    from unet_explain.model.verify import compare_model

    check_memory(config, models=2, what="building the model and the independent one")  # as verify does

    lines: list[str] = []
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(SUMMARY_WIDTH)
    try:
        with weights_left_unset():
            model = build_model(config)
            model.summary(line_length=SUMMARY_WIDTH, print_fn=lambda line, **_: lines.append(line))
            report = compare_model(config, model, build_reference(config))
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    return "\n".join(line.rstrip() for line in "\n".join(lines).splitlines()), report


@lru_cache(maxsize=8)
def _variants(config: UNetConfig) -> tuple[dict[str, Any], dict[str, str]]:
    """Every built-in variant built for ``config`` and audited: the reports and the build notes, by name."""
    from unet_explain.model.keras_unet import weights_left_unset
    from unet_explain.model.variants import VARIANTS, compare_variants

    with weights_left_unset():
        return compare_variants(list(VARIANTS), config)


def summary(words: list[str], site: Site) -> str:
    """Keras's own ``model.summary()``, at the width that shows every column, in a scrolling block."""
    body, _ = _network(config_from_flags(with_site(words, site)))
    flags = shlex.join(["summary", *with_site(words, site)])
    return (
        console_block(f"$ unet-explain {flags}") + f'\n<pre class="unet-wide"><code>{html.escape(body)}</code></pre>\n'
    )


def verify(words: list[str], site: Site) -> str:
    """The spec against the built Keras model, as a markdown table (imports TensorFlow)."""
    from unet_explain.docs import richmd
    from unet_explain.render.terminal import verify_table

    _, report = _network(config_from_flags(with_site(words, site)))
    return richmd.to_markdown(verify_table(report))


def compare(words: list[str], site: Site) -> str:
    """The built-in variants audited side by side, as a markdown table (``unet-explain compare``)."""
    from unet_explain.model.audit import COMPARE_LEGEND, row_kinds, summarise

    config, plane_note = _variants_config(words, site)
    reports, notes = _variants(config)
    rows = {name: summarise(report) for name, report in reports.items()}
    kinds = {name: row_kinds(report, rows["paper"]) for name, report in reports.items()}
    mark = {"deviation": "**{}**", "note": "*{}*", "": "{}"}
    label, own_note = paper_column(config)
    lines = [md_row(["", *(label if name == "paper" else name for name in rows)]), "|:---|" + ":---|" * len(rows)]
    for aspect in rows["paper"]:
        cells = [mark[kinds[name][aspect]].format(summary[aspect]) for name, summary in rows.items()]
        lines.append(md_row([aspect, *cells]))
    legend = COMPARE_LEGEND.replace("bold", "**Bold**", 1).replace("italic", "*italic*", 1)
    lines += ["", f"{legend}.", "", *(f"*{name}: {note}.*" for name, note in notes.items() if note)]
    if own_note:
        lines += ["", f"*{own_note}*"]
    if plane_note:
        lines += ["", f"*{plane_note}*"]
    return "\n".join(lines) + "\n"


def paper_column(config: UNetConfig) -> tuple[str, str]:
    """The heading of ``compare``'s first column, and a note when it is not the paper's own network.

    The column is the paper's design built for the site's network (with the paper's padding, at the
    nearest tile that fits it); on a site built for another network it is named for that, and its
    parameters are set beside the paper's own count.
    """
    from unet_explain.model.variants import variant_config

    built, _ = variant_config("paper", config)
    if built == UNetConfig():
        return "paper", ""
    own, paper = build_spec(built).totals.params, build_spec(UNetConfig()).totals.params
    return "paper's design", (
        f"paper's design: the paper's layers built for this site's network ({built.describe()}), "
        f"{count(own)} parameters; the paper's own network has {count(paper)}"
    )


def variant_gap(words: list[str], site: Site) -> str:
    """Why a variant's column in ``compare`` has more parameters than the paper's network, broken down.

    The paper's own count (its config) against the variant built for the site's config: the
    part the site's network itself adds (spec arithmetic: channels, classes, widths, depth) plus
    each part the audit attributes to the variant's layers (``params_by_aspect``). The parts must
    add up to the difference, or the page does not build.
    """
    from unet_explain.model.audit.aspects import ASPECTS
    from unet_explain.model.variants import get_variant

    if not words:
        raise PlaceholderError("variant-gap takes a VARIANT name, then config flags")
    name, rest = words[0], words[1:]
    config, _ = _variants_config(rest, site)
    paper = build_spec(UNetConfig()).totals.params
    own = build_spec(config).totals.params
    get_variant(name)  # an unknown name is one clear error
    report = _variants(config)[0][name]  # the variant as the compare table audited it
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
    return text + ": " + and_list([t for t, _ in parts]) + "."


def audit(words: list[str], site: Site) -> str:
    """``unet-explain audit MODEL`` as markdown: what was found, the deviations, the notes, the settings."""
    from unet_explain.model.audit import audit_model, load_model, summarise, title
    from unet_explain.model.keras_unet import weights_left_unset

    if len(words) != 1:
        raise PlaceholderError("audit takes one MODEL (file.py:function or model.keras)")
    # A file named in a page is relative to the site's sources. The audit reads no weight: a page's
    # example model is built without drawing its initial weights (a factory that needs them fails here).
    with contextlib.chdir(site.root), weights_left_unset():
        report = audit_model(load_model(words[0]))
    found = summarise(report)
    lines = ["| Found | |", "|:---|:---|", *(md_row([k, v]) for k, v in found.items())]
    lines += ["", f"Compared with {report.paper_note}:", ""]
    lines += ["| Aspect | This model | The paper | What it changes |", "|:---|:---|:---|:---|"]
    lines += [md_row([title(d.aspect), d.found, d.paper, d.meaning]) for d in report.deviations]
    if report.notes:
        lines += ["", "Differences that change nothing:", ""]
        lines += [f"- *{title(n.aspect)}*: {n.text}." for n in report.notes]
    lines += ["", f"Parameters: {report.params_account()}.", ""]
    return "\n".join(lines)

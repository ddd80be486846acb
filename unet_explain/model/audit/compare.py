"""Comparing the recognised parts with the paper: the report, its deviations, notes, settings and parameter account.

The paper network compared with is computed by the spec: always the paper's
depth 4, the reference's filters (the paper's 64 unless told), and the model's
own input channels and classes (task settings, reported under ``config``). Its
tile is the model's when the paper network accepts it, else the nearest valid
one (halfway between two, the larger); a same-padding model is not compared size for size with it, the padding
deviation says what the paper network would need instead
(:mod:`.deviations`). Every parameter difference is attributed to the aspect
that causes it (:mod:`.params`).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from unet_explain.core import arithmetic as ar
from unet_explain.core import names
from unet_explain.model.audit import describe
from unet_explain.model.audit import parts as pt
from unet_explain.model.audit.deviations import CHECKS, Context
from unet_explain.model.audit.graph import Node
from unet_explain.model.audit.params import account
from unet_explain.model.audit.report import AuditReport, SkipAudit

if TYPE_CHECKING:
    from unet_explain.config import UNetConfig
    from unet_explain.core.spec import UNetSpec


def _match(skip: pt.Skip) -> str:
    crops = [n for n in skip.matched if n.kind == "crop"]
    if crops:
        cropping = crops[0].attr("cropping")
        if cropping is None:
            return "centre crop"
        (top, bottom), (left, right) = cropping
        return f"crop {top}" if top == bottom == left == right else f"crop {top},{bottom},{left},{right}"

    # A resize layer is named even where this tile makes it a no-op (other tiles make it resize).
    if any(n.kind in ("resize", "upsample") or pt.scale(n) != 0 for n in skip.matched):
        return "resize"
    if any(n.type == "Lambda" for n in skip.matched):
        return "Lambda (resize or other)"
    if any(n.kind == "pad" for n in [*skip.matched, *skip.up_between]):
        return "pad"
    return "none"


def _skip_audit(parts: pt.Parts, skip: pt.Skip) -> SkipAudit:
    convs = [n for n in skip.up_between if n.kind == "conv"]
    upsampling = describe.up(skip.up)
    if convs:
        k = pt.kernel(convs[0])
        upsampling += f", then conv {k}x{k}"
    after = [a for a in (pt.activation_of(skip.up), *(pt.activation_of(b) for b in skip.up_between)) if a]
    up_in = next((p.channels for p in pt.main_parents(skip.up)), skip.up.channels)
    return SkipAudit(
        level=skip.level + 1,
        concat=skip.concat.name,
        source=skip.source.name,
        taken=pt.taken(parts, skip),
        match=_match(skip),
        upsampling=upsampling,
        after_upsampling=", ".join(dict.fromkeys(after)) or "none",
        copy_first=skip.copy_first,
        up_channels=(up_in, skip.up_input.channels),
        copy_channels=skip.copy_channels,
    )


def nearest_paper_side(side: int, depth: int) -> tuple[int | None, str]:
    """The side of the paper tile compared with a model's ``side``, and why it was chosen ("" if it is ``side``).

    The rule: the valid side nearest to ``side``; halfway between two, the
    larger, so the model's whole tile fits in it. (The tile that predicts all
    of a model's output pixels is another question, answered by the padding
    deviation: the smallest tile whose output covers them.)
    """
    if ar.is_valid_side(side, depth, "valid"):
        return side, ""
    below, above = ar.nearest_valid_sides(max(side, 1), depth, "valid")
    if below is None or above is None:
        choice = above if above is not None else below
        return choice, "" if choice is None else f"{choice} is the only valid side on that side of {side}"
    if side - below == above - side:
        return above, f"{side} lies halfway between the valid {below} and {above}; the larger holds the whole tile"
    choice = below if side - below < above - side else above
    return choice, f"the valid sides either side of {side} are {below} and {above}"


def _paper_for(report: AuditReport, reference: UNetConfig | None) -> tuple[UNetSpec | None, str]:
    from unet_explain.config import UNetConfig
    from unet_explain.core.spec import build_spec

    base = reference or UNetConfig()
    depth = base.depth
    sides, reasons = [], []
    for side in report.input_size:
        choice, reason = nearest_paper_side(side, depth)
        if choice is None:
            return None, f"no valid paper tile near {report.input_size}"
        sides.append(choice)
        if reason and reason not in reasons:
            reasons.append(reason)
    settings = base.as_dict() | {"input_size": (sides[0], sides[1]), "padding": "valid"}
    if reference is None:
        settings |= {"in_channels": report.in_channels, "num_classes": max(report.num_classes, 2)}
    config = UNetConfig(**settings)
    size = f"{sides[0]}x{sides[1]}"
    asked = f"{report.input_size[0]}x{report.input_size[1]}"
    note = (
        f"the paper network for a {size} tile, the valid tile nearest to {asked} ({'; '.join(reasons)})"
        if reasons
        else f"the paper network for the same {size} tile"
    )
    return build_spec(config), (
        f"{note}, depth {depth}, {config.base_filters} base filters, {config.in_channels} input "
        f"channel{'s' if config.in_channels > 1 else ''}, {config.num_classes} classes"
    )


def compare(parts: pt.Parts, reference: UNetConfig | None = None) -> AuditReport:
    """The audit report of ``parts``: what was found, every deviation from the paper, notes and settings."""
    graph = parts.graph
    skips = [_skip_audit(parts, s) for s in parts.skips]
    main_convs = [n for ops in parts.convs.values() for n in ops]
    up_convs = [n for s in parts.skips for n in s.up_between if n.kind == "conv"]
    sized = [n for n in [*main_convs, *up_convs] if pt.kernel(n) > 1]
    paddings = sorted({describe.padding(n) for n in sized})
    norm_counts = Counter(n.type for n in graph.nodes if n.kind == "norm")
    dropouts = [n for n in graph.nodes if n.kind == "dropout"]
    # The paper's initialisation is for every conv, the up-convolutions too: a default-initialised up-conv deviates.
    up_branch = [n for ops in parts.decoder_ups.values() for n in ops if n.kind in pt.CONVS]
    inits = [n.attr("init") or ("unknown", "other") for n in dict.fromkeys([*main_convs, *up_branch])]
    init_rules = list(dict.fromkeys(rule for rule, _ in inits))
    head = (
        parts.head_activation
        if parts.head_activation in ("softmax", "sigmoid")
        else ("logits" if parts.head_activation is None else str(parts.head_activation))
    )
    in_shape = graph.input.shape
    stage = parts.stage_of

    def place(n: Node) -> str:
        return stage.get(id(n), "outside the U")

    report = AuditReport(
        name=graph.name,
        input_size=(int(in_shape[1] or 0), int(in_shape[2] or 0)),
        in_channels=int(in_shape[3] or 0),
        output_size=graph.output_size,
        num_classes=graph.num_classes,
        params=graph.params,
        depth=parts.depth,
        paddings=paddings,
        level_channels=list(parts.enc_widths),
        skips=skips,
        normalisation=dict(sorted(norm_counts.items())),
        dropout=[f"{n.name} ({n.type} {n.attr('rate', '')}, {place(n)})".replace(" ,", ",") for n in dropouts],
        dropout_places=[
            (n.type, "" if n.attr("rate") is None else f"{float(n.attr('rate')):g}", place(n)) for n in dropouts
        ],
        initialiser="; ".join(init_rules) or "unknown",
        head=head,
        size_note=graph.size_note,
    )
    spec, report.paper_note = _paper_for(report, reference)
    report.paper = spec
    context = Context(report, parts, spec, main_convs, inits, dropouts, up_branch)
    for check in CHECKS:
        check(context)
    account(report, parts, spec)
    report.details = summarise(report)
    return report


def _same(values: list[str]) -> str:
    """One value if every level agrees, else the value per level (deepest first)."""
    return values[0] if len(set(values)) == 1 else " / ".join(values)


def _kept(up_channels: tuple[int, int]) -> str:
    """A note when an up-sampling keeps its channels (the paper's halves them)."""
    c_in, c_out = up_channels
    return f", keeping {c_out} channels" if c_in == c_out else ""


PAPER_DROPOUT = "at the end of the contracting path, while training"
"""Where the paper puts dropout (section 3.1), as the summary says it."""


def dropout_summary(report: AuditReport) -> str:
    """The dropout layers by type, rate and stage, and whether they sit where the paper puts them."""
    if not report.dropout_places:
        return f"none (the paper: {PAPER_DROPOUT})"
    groups: dict[tuple[str, str], list[str]] = {}
    for kind, rate, stage in report.dropout_places:
        stages = groups.setdefault((kind, rate), [])
        if stage not in stages:
            stages.append(stage)
    paper_places = {names.encoder(report.depth), names.BOTTLENECK}
    as_paper = all(kind == "Dropout" and stage in paper_places for kind, _, stage in report.dropout_places)
    text = "; ".join(
        f"{kind}{' ' + rate if rate else ''} in "
        + ("every stage" if len(stages) >= 2 * report.depth else ", ".join(stages))
        for (kind, rate), stages in groups.items()
    )
    return text + (" (where the paper puts it)" if as_paper else "")


def summarise(report: AuditReport) -> dict[str, str]:
    """The audit's findings as short strings, one per row (rows of ``unet-explain compare``)."""
    skips = report.skips
    return {
        "input tile": f"{report.input_size[0]}x{report.input_size[1]}x{report.in_channels}",
        "output map": f"{report.output_size[0]}x{report.output_size[1]}x{report.num_classes}",
        "parameters": f"{report.params:,}",
        "conv padding": "/".join(report.paddings),
        "skip copies the map": _same([s.taken for s in skips]) if skips else "none",
        "copy matched by": _same([s.match for s in skips]) if skips else "none",
        "up-sampling": _same([s.upsampling + _kept(s.up_channels) for s in skips]) if skips else "none",
        "after up-sampling": _same([s.after_upsampling for s in skips]) if skips else "none",
        "concatenation": _same(["copy first" if s.copy_first else "up-sampled first" for s in skips])
        if skips
        else "none",
        "normalisation": ", ".join(f"{n} {k}" for k, n in report.normalisation.items()) or "none",
        "dropout": dropout_summary(report),
        "initialisation": report.initialiser,
        "head": report.head,
        "deviations from the paper": str(len(report.deviations)),
    }


ROW_ASPECTS: dict[str, tuple[str, ...]] = {
    "input tile": ("padding",),  # a same-padding network needs other tile sizes
    "output map": ("padding",),
    "parameters": (),  # the aspects the parameter account names (see row_kinds)
    "conv padding": ("padding",),
    "skip copies the map": ("skip_source",),
    "copy matched by": ("skip_match", "padding"),  # same padding leaves nothing to crop
    "up-sampling": ("upsampling", "up_channels"),
    "after up-sampling": ("upsampling_activation",),
    "concatenation": ("concat_order",),
    "normalisation": ("normalisation",),
    "dropout": ("dropout",),
    "initialisation": ("init",),
    "head": ("head",),
    "deviations from the paper": (),  # the count itself
}
"""The aspects behind each row of :func:`summarise`: a row that differs because of one of them shows a deviation."""

COMPARE_LEGEND = (
    "bold: a deviation from the paper, or a number it changes; italic: a difference that is not a deviation "
    "(a note: same sizes, parameters and predictions); the last row counts the deviations"
)
"""The one-line key under a side-by-side table of summaries."""


def row_kinds(report: AuditReport, paper_rows: dict[str, str]) -> dict[str, str]:
    """How each row of ``summarise(report)`` stands against ``paper_rows`` (the paper's column).

    "deviation" when it differs because of a deviation the audit counts, "note"
    when it differs for another reason (a note, or the paper's own dropout that
    the paper variant leaves out), "" when it is the same; the count row is
    never marked.
    """
    rows = summarise(report)
    deviated = {d.aspect for d in report.deviations}
    kinds = {}
    for row, value in rows.items():
        aspects = tuple(report.param_sources) if row == "parameters" else ROW_ASPECTS.get(row, ())
        if row == "deviations from the paper" or value == paper_rows.get(row, value):
            kinds[row] = ""
        else:
            kinds[row] = "deviation" if deviated & set(aspects) else "note"
    return kinds

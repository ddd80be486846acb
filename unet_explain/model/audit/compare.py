"""Comparing the recognised parts with the paper: the report, its deviations, notes, settings and parameter account.

The paper network compared with is computed by the spec: the model's depth,
the reference's filters (the paper's 64 unless told), and the model's own
input channels and classes (task settings, reported under ``config``). Its
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
from unet_explain.model.audit import parts as pt
from unet_explain.model.audit.deviations import CHECKS, Context
from unet_explain.model.audit.params import account
from unet_explain.model.audit.report import AuditReport, SkipAudit

if TYPE_CHECKING:
    from unet_explain.config import UNetConfig
    from unet_explain.core.spec import UNetSpec


def _match(skip: pt.Skip) -> str:
    kinds = [op.kind for op in skip.matched]
    if "Cropping2D" in kinds:
        crop = skip.matched[kinds.index("Cropping2D")].config.get("cropping", ((0, 0), (0, 0)))
        (top, bottom), (left, right) = crop
        return f"crop {top}" if top == bottom == left == right else f"crop {top},{bottom},{left},{right}"
    if "CenterCrop" in kinds:
        return "centre crop"
    if any(pt.is_up(op) or op.kind in ("Resizing", "Resize") for op in skip.matched):
        return "resize"
    if "Lambda" in kinds:
        return "Lambda (resize or other)"
    if "ZeroPadding2D" in kinds or any(op.kind == "ZeroPadding2D" for op in skip.up_between):
        return "pad"
    return "none"


def _skip_audit(parts: pt.Parts, skip: pt.Skip) -> SkipAudit:
    convs = [op for op in skip.up_between if op.kind in pt.CONV]
    upsampling = pt.describe_up(skip.up)
    if convs:
        k = pt.kernel(convs[0])
        upsampling += f", then conv {k}x{k}"
    after = [a for a in (pt.activation_of(skip.up), *(pt.activation_of(b) for b in skip.up_between)) if a]
    up_in = next((p.channels for p in skip.up.parents if p.spatial is not None), skip.up.channels)
    up_branch = skip.up_between[-1] if skip.up_between else skip.up
    return SkipAudit(
        level=skip.level + 1,
        concat=skip.concat.name,
        source=skip.source.name,
        taken=pt.taken(parts, skip),
        match=_match(skip),
        upsampling=upsampling,
        after_upsampling=", ".join(dict.fromkeys(after)) or "none",
        copy_first=skip.copy_first,
        up_channels=(up_in, up_branch.channels),
        copy_channels=skip.concat.channels - up_branch.channels,
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

    depth = report.depth
    if not 1 <= depth <= 6:
        return None, f"no paper network to compare with (depth {depth})"
    sides, reasons = [], []
    for side in report.input_size:
        choice, reason = nearest_paper_side(side, depth)
        if choice is None:
            return None, f"no valid paper tile near {report.input_size}"
        sides.append(choice)
        if reason and reason not in reasons:
            reasons.append(reason)
    base = reference or UNetConfig()
    settings = base.as_dict() | {"input_size": (sides[0], sides[1]), "depth": depth, "padding": "valid"}
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
    main_convs = [op for ops in parts.convs.values() for op in ops]
    sized = [op for op in [*main_convs, *parts.up_convs] if pt.kernel(op) > 1]
    paddings = sorted({str(op.config.get("padding", "valid")) for op in sized})
    depth = parts.depth
    enc_channels = []
    for level in range(depth):
        downs = parts.downs.get(level, [])
        parent = next((p for p in downs[0].parents if p.spatial is not None), None) if downs else None
        enc_channels.append(parent.channels if parent is not None else 0)
    bottleneck = parts.convs.get(names.BOTTLENECK, [])
    deepest_up = next((s for s in parts.skips if s.level == depth - 1), None)
    bottleneck_channels = (
        bottleneck[-1].channels
        if bottleneck
        else next((p.channels for p in deepest_up.up.parents), 0)
        if deepest_up
        else 0
    )
    norm_counts = Counter(op.kind for op in graph.ops if op.kind in pt.NORM)
    dropouts = [op for op in graph.ops if op.kind in pt.DROPOUT]
    inits = [pt.describe_initialiser(op.layer) for op in main_convs]
    init_rules = list(dict.fromkeys(rule for rule, _ in inits))
    in_shape, out_shape = graph.input.shape, graph.output.shape
    head = (
        parts.head_activation
        if parts.head_activation in ("softmax", "sigmoid")
        else ("logits" if parts.head_activation is None else str(parts.head_activation))
    )
    report = AuditReport(
        name=graph.name,
        input_size=(int(in_shape[1] or 0), int(in_shape[2] or 0)),
        in_channels=int(in_shape[3] or 0),
        output_size=(int(out_shape[1] or 0), int(out_shape[2] or 0)),
        num_classes=int(out_shape[-1] or 0),
        params=graph.params,
        depth=depth,
        paddings=paddings,
        level_channels=[*enc_channels, bottleneck_channels],
        skips=skips,
        normalisation=dict(sorted(norm_counts.items())),
        dropout=[
            f"{op.name} ({op.kind} {op.config.get('rate', '')}, {parts.stage_of[id(op)]})".replace(" ,", ",")
            for op in dropouts
        ],
        dropout_places=[
            (op.kind, "" if op.config.get("rate") is None else f"{float(op.config['rate']):g}", parts.stage_of[id(op)])
            for op in dropouts
        ],
        initialiser="; ".join(init_rules) or "unknown",
        head=head,
        size_note=graph.size_note,
    )
    spec, report.paper_note = _paper_for(report, reference)
    report.paper = spec
    context = Context(report, parts, spec, main_convs, inits, dropouts)
    for check in CHECKS:
        check(context)
    account(report, parts, spec, main_convs)
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

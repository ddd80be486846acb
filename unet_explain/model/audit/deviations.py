"""The checks: one function per group of aspects, each adding its deviations (and notes) to the report.

Every wording comes from :mod:`.aspects`; each check reads the recognised
parts (:mod:`.parts`) and the paper network it is compared with.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from unet_explain.core import arithmetic as ar
from unet_explain.core import names
from unet_explain.model.audit import describe
from unet_explain.model.audit import parts as pt
from unet_explain.model.audit.aspects import ASPECTS, NOTE_TEXT, meaning
from unet_explain.model.audit.graph import Node
from unet_explain.model.audit.params import unplaced
from unet_explain.model.audit.report import AuditReport, Deviation, Note

if TYPE_CHECKING:
    from unet_explain.core.spec import UNetSpec

PAPER_DOWN = "max-pooling 2x2, stride 2"
PAPER_UP = "transposed conv 2x2, stride 2"


def _levels_text(levels: list[int], total: int) -> str:
    if len(levels) == total and total > 1:
        return f"all {total} levels"
    return "level" + ("s " if len(levels) > 1 else " ") + ", ".join(map(str, sorted(levels)))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def covering_side(side: int, depth: int) -> int | None:
    """The smallest valid tile side whose (valid-padding) output is at least ``side`` pixels.

    The tile that predicts all of a model's ``side`` output pixels in one pass;
    not the tile compared with (the nearest valid one, see ``compare.nearest_paper_side``).
    """
    for n in range(side, min(side * 4 + 400, ar.MAX_SIDE)):
        if ar.is_valid_side(n, depth, "valid") and ar.trace_side(n, depth, "valid").output >= side:
            return n
    return None


def _padding_deviation(
    report: AuditReport, spec: UNetSpec | None, counts: Counter[str], zero: bool
) -> Deviation | None:
    aspect = ASPECTS["padding"]
    if report.paddings == ["valid"] or not report.paddings:
        return None
    (oh, ow) = report.output_size
    if "valid" in report.paddings:
        total = sum(counts.values())
        found = f"same in {counts['same']} of {total} convs, valid in the others"
        return Deviation("padding", found, aspect.paper, meaning("padding", "mixed", out=f"{oh}x{ow}"))
    found = "/".join(report.paddings) + (" " + meaning("padding", "zero") if zero else "")
    if spec is None:
        return Deviation("padding", found, aspect.paper, f"the maps keep their size ({oh}x{ow} out)")
    (ph, pw), (qh, qw) = spec.config.input_size, spec.totals.output_size
    trace = ar.trace_side(ph, spec.config.depth, "valid")
    cover_h, cover_w = covering_side(oh, spec.config.depth), covering_side(ow, spec.config.depth)
    if cover_h and cover_w:
        out_h = ar.trace_side(cover_h, spec.config.depth, "valid").output
        out_w = ar.trace_side(cover_w, spec.config.depth, "valid").output
        cover = meaning("padding", "cover", out=f"{oh}x{ow}", tile=f"{cover_h}x{cover_w}", tile_out=f"{out_h}x{out_w}")
    else:
        cover = meaning("padding", "tiles")
    return Deviation(
        "padding",
        f"{found}: {report.input_size[0]}x{report.input_size[1]} in, {oh}x{ow} out",
        aspect.paper,
        meaning(
            "padding",
            "same",
            out=f"{oh}x{ow}",
            tile=f"{ph}x{pw}",
            paper_out=f"{qh}x{qw}",
            margin=trace.margin,
            cover=cover,
        ),
    )


def _per_level(report: AuditReport, parts: pt.Parts) -> list[tuple[int, Deviation]]:
    out: list[tuple[int, Deviation]] = []
    widths_of = {lv + 1: w for lv, w in enumerate(report.level_channels)}
    # Widths are read at the merge: an up-sampled map as wide as the copy it joins there is the paper's.
    targets = {s.level + 1: s.up_target(widths_of[s.level + 1]) for s in parts.skips}
    for skip in report.skips:
        level = skip.level
        if skip.taken != "before down-sampling":
            case = {"after down-sampling": "after", "the input image": "input"}.get(skip.taken, "elsewhere")
            if skip.taken.startswith("the pooled map"):
                case = "pooled"
            if skip.taken.startswith("gated"):
                case = "gated"
            out.append(
                (
                    level,
                    Deviation(
                        "skip_source",
                        skip.taken if skip.taken.startswith("the ") else f"the map {skip.taken}",
                        ASPECTS["skip_source"].paper,
                        meaning("skip_source", case),
                    ),
                )
            )
        match = skip.match
        if match.startswith("crop") and "," in match:
            out.append((level, Deviation("skip_match", match, "centre crop", meaning("skip_match", "uncentred"))))
        elif match == "resize":
            out.append(
                (level, Deviation("skip_match", "resize of the copy", "centre crop", meaning("skip_match", "resize")))
            )
        elif match.startswith("Lambda"):
            out.append((level, Deviation("skip_match", match, "centre crop", meaning("skip_match", "lambda"))))
        elif match == "pad":
            out.append((level, Deviation("skip_match", "zero padding", "centre crop", meaning("skip_match", "pad"))))
        if not skip.upsampling.startswith(PAPER_UP) or ", then conv" in skip.upsampling:
            fixed = "up-sampling" in skip.upsampling or "resize" in skip.upsampling
            case = ("fixed+conv" if ", then conv" in skip.upsampling else "fixed") if fixed else "other"
            out.append(
                (
                    level,
                    Deviation("upsampling", skip.upsampling, ASPECTS["upsampling"].paper, meaning("upsampling", case)),
                )
            )
        if skip.after_upsampling != "none":
            out.append(
                (
                    level,
                    Deviation(
                        "upsampling_activation",
                        skip.after_upsampling,
                        ASPECTS["upsampling_activation"].paper,
                        meaning("upsampling_activation", "relu"),
                    ),
                )
            )
        # The paper's up-convolution halves the channels, so the up-sampled map is as wide as the level.
        c_in, c_out = skip.up_channels
        if c_out != targets.get(level, widths_of[level]):
            found = "channels kept" if c_out == c_in else "channels changed"
            out.append((level, Deviation("up_channels", found, ASPECTS["up_channels"].paper, "")))
    return out


def _merge(report: AuditReport, per_level: list[tuple[int, Deviation]], widths: dict[int, str]) -> None:
    merged: dict[Deviation, list[int]] = {}
    for level, deviation in per_level:
        merged.setdefault(deviation, []).append(level)
    total = len(report.skips)
    for deviation, levels in merged.items():
        where = _levels_text(levels, total)
        text = deviation.meaning
        found = deviation.found
        if deviation.aspect == "up_channels":
            case = "kept" if found == "channels kept" else "other"
            text = meaning("up_channels", case, widths=", ".join(widths[lv] for lv in sorted(levels, reverse=True)))
        report.deviations.append(Deviation(deviation.aspect, f"{found} ({where})", deviation.paper, text))


def _conv_text(op: Node) -> str:
    k = pt.kernel(op)
    kind = {"separable": "separable conv", "depthwise": "depthwise conv"}.get(op.attr("conv_type"), "conv")
    if op.kind == "conv_transpose":
        kind = "transposed conv"
    elif op.kind != "conv":
        return op.type
    return f"{kind} {k}x{k}"


def _describe_convs(ops: list[Node]) -> str:
    """Many convolutions in short: their kinds and kernels."""
    return ", ".join(f"{n} {kind}" for kind, n in Counter(_conv_text(op) for op in ops).items())


@dataclass
class Context:
    """What every check reads; the checks add to ``report``."""

    report: AuditReport
    parts: pt.Parts
    spec: UNetSpec | None
    main_convs: list[Node]
    inits: list[tuple[str, str]]
    dropouts: list[Node]
    up_convs: list[Node] = field(default_factory=list)
    """The convs of the up-sampling branches (the paper's up-convolutions have a bias and its initialiser)."""


def _check_padding(c: Context) -> None:
    sized = [n for n in c.main_convs if pt.kernel(n) > 1]
    counts = Counter(describe.padding(n) for n in sized)
    zero = any(describe.padding(n) != n.attr("padding", "valid") for n in sized)
    add = c.report.deviations.append
    padding = _padding_deviation(c.report, c.spec, counts, zero)
    if padding is not None:
        add(padding)


def _check_downsampling(c: Context) -> None:
    parts = c.parts
    add = c.report.deviations.append
    # Down-sampling, per level.
    down_text = {
        level: " + ".join(dict.fromkeys(describe.down(parts, op) for op in ops)) for level, ops in parts.downs.items()
    }
    odd = {lv: text for lv, text in down_text.items() if text != PAPER_DOWN}
    if odd:
        kinds = set(odd.values())
        case = (
            "strided"
            if any("strided" in k for k in kinds)
            else "average"
            if any("average" in k for k in kinds)
            else "other"
        )
        where = _levels_text([lv + 1 for lv in odd], len(down_text))
        add(
            Deviation(
                "downsampling",
                f"{' / '.join(dict.fromkeys(odd.values()))} ({where})",
                ASPECTS["downsampling"].paper,
                meaning("downsampling", case),
            )
        )


def _check_skips(c: Context) -> None:
    report = c.report
    parts = c.parts
    add = c.report.deviations.append
    # The paper's concatenation at each merge: the copies and an up-sampled map as wide as the copy.
    paper_width = {s.level + 1: s.copy_channels + s.up_target(report.level_channels[s.level]) for s in parts.skips}
    widths = {
        skip.level: f"{skip.up_channels[1] + skip.copy_channels} instead of "
        f"{paper_width.get(skip.level, 2 * report.level_channels[skip.level - 1])}"
        for skip in report.skips
    }
    _merge(report, _per_level(report, parts), widths)
    extra_copies = [s for s in parts.skips if s.extra_copies]
    if extra_copies:
        add(
            Deviation(
                "skip_source",
                f"{len(extra_copies)} concatenations join several copies",
                "one copy per level",
                meaning("skip_source", "extra"),
            )
        )


def _check_channels_and_depth(c: Context) -> None:
    report, parts, spec = c.report, c.parts, c.spec
    add = report.deviations.append
    depth = parts.depth
    if spec is not None:
        base, paper_depth = spec.config.base_filters, spec.config.depth
        # Levels one network has and the other lacks are the depth's; the channels compare the levels both have.
        if depth >= paper_depth:
            mine = [*report.level_channels[:paper_depth], report.level_channels[-1]]
            paper = [base * 2**k for k in range(paper_depth + 1)]
        else:
            mine = list(report.level_channels)
            paper = [base * 2**k for k in range(depth)] + [base * 2**paper_depth]
        if mine != paper:
            found = ", ".join(map(str, report.level_channels))
            shown = ", ".join(map(str, paper)) + ("" if depth == paper_depth else " (the levels both have)")
            add(Deviation("channels", found, shown, meaning("channels", "width")))
    dec = sorted(parts.dec_widths.items(), reverse=True)
    mismatched = [lv for lv, w in dec if w != report.level_channels[lv]]
    if mismatched:
        found = ", ".join(f"dec{lv + 1} {w}" for lv, w in dec)
        add(
            Deviation(
                "channels", found, "each decoder level as wide as its encoder level", meaning("channels", "decoder")
            )
        )
    if depth != 4:
        found = f"{_plural(depth, 'down-sampling')} ({depth + 1} levels)"
        add(Deviation("depth", found, ASPECTS["depth"].paper, meaning("depth", "depth", deep=2**depth)))
    skip_levels = {s.level for s in parts.skips}
    with_convs = {lv for lv in range(depth) if parts.convs.get(names.decoder(lv + 1))}
    present = skip_levels | with_convs
    finest = min(present) if present else depth
    if finest > 0:
        up = any(pt.scale(n) < 0 for n in [parts.head, *parts.after_head])
        tail = f"its output is up-sampled x{2**finest}" if up else "its output stays at that resolution"
        add(
            Deviation(
                "depth",
                f"the decoder stops at level {finest + 1} (1/{2**finest} of the input's side); {tail}",
                "a decoder level at every resolution, down to the input's",
                meaning("depth", "stops" if up else "coarse", scale=2**finest),
            )
        )
    missing = [lv + 1 for lv in range(finest, depth) if lv not in skip_levels]
    if missing:
        add(
            Deviation(
                "depth",
                f"no skip connection at level{'s' if len(missing) > 1 else ''} {', '.join(map(str, missing))}",
                "a skip connection at every level",
                meaning("depth", "skips"),
            )
        )


def _check_activations(c: Context) -> None:
    main_convs = c.main_convs
    add = c.report.deviations.append
    activations: Counter[str] = Counter(pt.activation_after(op) or "none" for op in main_convs)
    if activations and set(activations) != {"relu"}:
        found = ", ".join(
            f"{name} after {'every conv' if n == len(main_convs) else _plural(n, 'conv')}"
            for name, n in activations.items()
        )
        case = "missing" if "none" in activations else "other"
        add(Deviation("conv_activation", found, ASPECTS["conv_activation"].paper, meaning("conv_activation", case)))


def _check_normalisation(c: Context) -> None:
    report = c.report
    main_convs = c.main_convs
    add = c.report.deviations.append
    # Normalisation: which, after how many convs, before or after the activation.
    if report.normalisation:
        normed = before = 0
        for op in main_convs:
            chain = pt.follow(op)
            chain_kinds = [n.kind for n in chain]
            if "norm" in chain_kinds:
                normed += 1
                first_norm = chain_kinds.index("norm")
                acts = [i for i, n in enumerate(chain) if pt.activation_of(n)]
                if pt.activation_of(op) is None and (not acts or first_norm < acts[0]):
                    before += 1
        kinds_text = ", ".join(f"{n} {k}" for k, n in report.normalisation.items())
        where = f" after {normed} of {len(main_convs)} convs" + (
            ", before the activation" if before == normed and normed else ""
        )
        add(
            Deviation(
                "normalisation", kinds_text + where, ASPECTS["normalisation"].paper, meaning("normalisation", "batch")
            )
        )


def _check_dropout(c: Context) -> None:
    report, parts, dropouts = c.report, c.parts, c.dropouts
    add = report.deviations.append
    paper_places = {names.encoder(parts.depth), names.BOTTLENECK}
    if dropouts:
        stage = parts.stage_of
        spatial = [op for op in dropouts if op.type != "Dropout"]
        misplaced = [op for op in dropouts if stage.get(id(op)) not in paper_places]
        if spatial or misplaced:
            stages = list(dict.fromkeys(stage.get(id(op), "outside the U") for op in dropouts))
            drop_kinds = ", ".join(f"{n} {k}" for k, n in Counter(op.type for op in dropouts).items())
            rates = sorted({float(op.attr("rate")) for op in dropouts if op.attr("rate") is not None})
            rate = f", rate {'/'.join(f'{r:g}' for r in rates)}" if rates else ""
            where = "every stage" if len(stages) >= 2 * parts.depth else ", ".join(stages)
            add(
                Deviation(
                    "dropout",
                    f"{drop_kinds}{rate} in {where}",
                    ASPECTS["dropout"].paper,
                    meaning("dropout", "spatial" if spatial else "placement"),
                )
            )
    elif not parts.graph.training_only:
        report.notes.append(Note("dropout", NOTE_TEXT["no_dropout"]))
    if parts.graph.training_only:
        blocks = ", ".join(parts.graph.training_only)
        report.notes.append(Note("dropout", NOTE_TEXT["training_only"].format(blocks=blocks)))


def _check_extra_layers(c: Context) -> None:
    parts = c.parts
    add = c.report.deviations.append
    paper = ASPECTS["extra_layers"].paper
    extra_found = []
    before_head, current = set(), parts.head
    while len(pt.main_parents(current)) == 1:
        current = pt.main_parents(current)[0]
        before_head.add(id(current))
    for stage, convs in parts.extra_convs.items():
        label = "before the head" if all(id(op) in before_head for op in convs) else f"in {stage}"
        described = (
            _describe_convs(convs)
            if len(convs) > 2
            else ", ".join(f"{_conv_text(op)} ({op.channels} filters)" for op in convs)
        )
        extra_found.append(f"{_plural(len(convs), 'more conv')} {label}: {described}")
    after = [op for op in parts.after_head if op.params and op.kind not in ("activation", "norm")]
    if after:
        extra_found.append("after the head: " + ", ".join(op.type for op in after))
    heads = [op for op in parts.graph.other_outputs if op.params and op.kind not in ("activation", "norm")]
    if heads:
        described = _describe_convs(heads)
        extra_found.append(f"{_plural(len(heads), 'layer')} with weights in the other outputs: {described}")
    others = unplaced(parts)
    if others:
        extra_found.append(f"other layers with weights: {_describe_convs(others)}")
    if extra_found:
        add(Deviation("extra_layers", "; ".join(extra_found), paper, meaning("extra_layers", "extra")))
    odd = [op for op in c.main_convs if pt.kernel(op) != 3 or op.attr("conv_type", "conv") != "conv"]
    if odd:
        add(
            Deviation(
                "extra_layers",
                f"{_describe_convs(odd)} among the levels' two convs",
                paper,
                meaning("extra_layers", "kernel"),
            )
        )
    present = {s.level for s in parts.skips} | {
        lv for lv in range(parts.depth) if parts.convs.get(names.decoder(lv + 1))
    }
    expected = [names.encoder(k) for k in range(1, parts.depth + 1)] + [names.BOTTLENECK]
    expected += [names.decoder(lv + 1) for lv in sorted(present, reverse=True)]
    fewer = [stage for stage in expected if len(parts.convs.get(stage, [])) < 2]
    if fewer:
        found = f"fewer than two convs in {', '.join(dict.fromkeys(fewer))}"
        add(Deviation("extra_layers", found, paper, meaning("extra_layers", "fewer")))
    gated = [skip for skip in parts.skips if skip.side]
    gates = [op for skip in gated for op in skip.side if op.params and op.kind != "norm"]
    if gates:
        multiplied = any(op.kind == "multiply" for skip in gated for op in skip.side)
        add(
            Deviation(
                "extra_layers",
                f"{_describe_convs(gates)} on the copy's way to the concatenation at {_plural(len(gated), 'level')}"
                + (" (a gate computed from both paths, as in Attention U-Net)" if multiplied else ""),
                paper,
                meaning("extra_layers", "gate" if multiplied else "extra"),
            )
        )
    if parts.conditioning:
        inputs = [n for n in parts.graph.nodes if n.kind == "input" and n is not parts.graph.input]
        shown = ", ".join(f"{n.name} {'x'.join(str(d) for d in n.shape[1:])}" for n in inputs) or "another input"
        add(
            Deviation(
                "extra_layers",
                f"{shown} joins through {_describe_convs(parts.conditioning)}",
                paper,
                meaning("extra_layers", "conditioning"),
            )
        )
    if parts.residual_adds:
        adds = sum(n.kind == "add" for n in parts.residual_adds)
        products = len(parts.residual_adds) - adds
        found = " and ".join(
            t for t in (adds and _plural(adds, "element-wise addition"), products and _plural(products, "product")) if t
        )
        add(
            Deviation(
                "extra_layers", f"{found} of maps (residual connections)", paper, meaning("extra_layers", "residual")
            )
        )


def _check_head(c: Context) -> None:
    report, parts = c.report, c.parts
    add = report.deviations.append
    k = pt.kernel(parts.head)
    head_paper = ASPECTS["head"].paper
    ups = [n for n in parts.after_head if pt.scale(n) < 0]
    if pt.is_up(parts.head):
        add(Deviation("head", describe.up(parts.head), head_paper, meaning("head", "up")))
    elif ups:
        add(Deviation("head", f"{describe.up(ups[0])} after the head", head_paper, meaning("head", "up_after")))
    if parts.head.kind == "conv" and k != 1:
        add(Deviation("head", f"conv {k}x{k}", head_paper, meaning("head", "kernel")))
    if report.head == "logits":
        add(Deviation("head", "logits (no activation)", head_paper, meaning("head", "logits")))
    elif report.head == "sigmoid":
        case = "sigmoid1" if report.num_classes == 1 else "sigmoid"
        add(
            Deviation(
                "head",
                f"{report.num_classes} channel{'s' if report.num_classes > 1 else ''}, sigmoid",
                head_paper,
                meaning("head", case),
            )
        )
    elif report.head != "softmax":
        add(Deviation("head", report.head, head_paper, meaning("head", "other")))


def _check_init(c: Context) -> None:
    report = c.report
    add = report.deviations.append
    classes = {cls for _, cls in c.inits}
    if "other" in classes:
        add(Deviation("init", report.initialiser, ASPECTS["init"].paper, meaning("init", "other")))
    elif "paper-truncated" in classes:
        report.notes.append(Note("init", NOTE_TEXT["init_truncated"].format(rule=report.initialiser)))


def _check_bias(c: Context) -> None:
    # Every conv of the paper has a bias, the up-convolutions too.
    main_convs = list(dict.fromkeys([*c.main_convs, *c.up_convs]))
    add = c.report.deviations.append
    no_bias = [op for op in main_convs if op.attr("use_bias") is False]
    if no_bias:
        normed = sum(any(n.kind == "norm" for n in pt.follow(op)) for op in no_bias)
        case = "missing" if normed == len(no_bias) else "missing-plain"
        add(
            Deviation(
                "conv_bias",
                f"no bias in {len(no_bias)} of {len(main_convs)} convs",
                ASPECTS["conv_bias"].paper,
                meaning("conv_bias", case, count=len(no_bias), normed=normed),
            )
        )


def _check_notes(c: Context) -> None:
    report = c.report
    flipped = [s.level for s in report.skips if not s.copy_first]
    if flipped:
        report.notes.append(
            Note("concat_order", NOTE_TEXT["concat_order"].format(levels=_levels_text(flipped, len(report.skips))))
        )


CHECKS = (
    _check_padding,
    _check_downsampling,
    _check_skips,
    _check_channels_and_depth,
    _check_activations,
    _check_normalisation,
    _check_dropout,
    _check_extra_layers,
    _check_head,
    _check_init,
    _check_bias,
    _check_notes,
)
"""One check per aspect group, in the order the report lists them."""

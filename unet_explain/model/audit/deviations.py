"""The checks: one function per group of aspects, each adding its deviations (and notes) to the report.

Every wording comes from :mod:`.aspects`; each check reads the recognised
parts (:mod:`.parts`) and the paper network it is compared with.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from unet_explain.core import arithmetic as ar
from unet_explain.core import names
from unet_explain.model.audit import parts as pt
from unet_explain.model.audit.aspects import ASPECTS, NOTE_TEXT, meaning
from unet_explain.model.audit.graph import Op
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


def _padding_deviation(report: AuditReport, spec: UNetSpec | None) -> Deviation | None:
    aspect = ASPECTS["padding"]
    if report.paddings == ["valid"] or not report.paddings:
        return None
    if "valid" in report.paddings:
        return Deviation("padding", "/".join(report.paddings), aspect.paper, meaning("padding", "mixed"))
    (oh, ow) = report.output_size
    if spec is None:
        text = f"the maps keep their size ({oh}x{ow} out)"
        return Deviation("padding", "/".join(report.paddings), aspect.paper, text)
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
        f"{'/'.join(report.paddings)}: {report.input_size[0]}x{report.input_size[1]} in, {oh}x{ow} out",
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


def _per_level(report: AuditReport) -> list[tuple[int, Deviation]]:
    out: list[tuple[int, Deviation]] = []
    for skip in report.skips:
        level = skip.level
        if skip.taken != "before down-sampling":
            case = {"after down-sampling": "after", "the input image": "input"}.get(skip.taken, "elsewhere")
            if skip.taken.startswith("gated"):
                case = "gated"
            out.append(
                (
                    level,
                    Deviation(
                        "skip_source",
                        f"the map {skip.taken}",
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
        # The paper's up-convolution halves the channels, so the up-sampled map is as wide as the copy.
        c_in, c_out = skip.up_channels
        if c_out != skip.copy_channels:
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


def _conv_text(op: Op) -> str:
    k = pt.kernel(op)
    return f"{op.kind.replace('2D', '').lower()} {k}x{k}"


def _describe_convs(ops: list[Op]) -> str:
    """Many convolutions in short: their kinds and kernels."""
    return ", ".join(f"{n} {kind}" for kind, n in Counter(_conv_text(op) for op in ops).items())


@dataclass
class Context:
    """What every check reads; the checks add to ``report``."""

    report: AuditReport
    parts: pt.Parts
    spec: UNetSpec | None
    main_convs: list[Op]
    inits: list[tuple[str, str]]
    dropouts: list[Op]


def _check_padding(c: Context) -> None:
    report = c.report
    spec = c.spec
    add = c.report.deviations.append
    padding = _padding_deviation(report, spec)
    if padding is not None:
        add(padding)


def _check_downsampling(c: Context) -> None:
    parts = c.parts
    add = c.report.deviations.append
    # Down-sampling, per level.
    down_text = {
        level: " + ".join(dict.fromkeys(pt.describe_down(op) for op in ops)) for level, ops in parts.downs.items()
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
    widths = {
        skip.level: f"{skip.up_channels[1] + skip.copy_channels} instead of {2 * skip.copy_channels}"
        for skip in report.skips
    }
    _merge(report, _per_level(report), widths)
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
    report = c.report
    parts = c.parts
    spec = c.spec
    add = c.report.deviations.append
    # Channels and depth.
    if spec is not None:
        paper_channels = [spec.stage(names.encoder(k)).channels for k in range(1, spec.config.depth + 1)]
        paper_channels.append(spec.stage(names.BOTTLENECK).channels)
        if report.level_channels != paper_channels:
            add(
                Deviation(
                    "channels",
                    ", ".join(map(str, report.level_channels)),
                    ", ".join(map(str, paper_channels)),
                    meaning("channels", "width"),
                )
            )
    dec_channels = []
    for level in range(parts.depth):
        convs = parts.convs.get(names.decoder(level + 1), [])[:2]
        if convs:
            dec_channels.append((level, convs[-1].channels))
    mismatched = [
        lv for lv, c in dec_channels if lv < len(report.level_channels) - 1 and c != report.level_channels[lv]
    ]
    if mismatched:
        found = ", ".join(f"dec{lv + 1} {c}" for lv, c in dec_channels)
        add(
            Deviation(
                "channels", found, "each decoder level as wide as its encoder level", meaning("channels", "decoder")
            )
        )
    if report.depth != 4:
        add(
            Deviation(
                "depth", _plural(report.depth, "down-sampling"), ASPECTS["depth"].paper, meaning("depth", "depth")
            )
        )
    skip_levels = {s.level for s in parts.skips}
    missing = [lv + 1 for lv in range(parts.depth) if lv not in skip_levels]
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
    # Activations of the main convolutions.
    activations: Counter[str] = Counter()
    for op in main_convs:
        act = pt.activation_of(op) or next((a for a in map(pt.activation_of, pt.follow(op)) if a), None)
        activations[act or "none"] += 1
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
            chain_kinds = [c.kind for c in chain]
            if any(k in pt.NORM for k in chain_kinds):
                normed += 1
                first_norm = next(i for i, k in enumerate(chain_kinds) if k in pt.NORM)
                acts = [i for i, c in enumerate(chain) if pt.activation_of(c)]
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
    report = c.report
    parts = c.parts
    dropouts = c.dropouts
    add = c.report.deviations.append
    # Dropout: type and place.
    paper_places = {names.encoder(parts.depth), names.BOTTLENECK}
    if dropouts:
        spatial = [op for op in dropouts if op.kind != "Dropout"]
        misplaced = [op for op in dropouts if parts.stage_of[id(op)] not in paper_places]
        if spatial or misplaced:
            stages = list(dict.fromkeys(parts.stage_of[id(op)] for op in dropouts))
            drop_kinds = ", ".join(f"{n} {k}" for k, n in Counter(op.kind for op in dropouts).items())
            rates = sorted({float(op.config["rate"]) for op in dropouts if op.config.get("rate") is not None})
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
    else:
        report.notes.append(Note("dropout", NOTE_TEXT["no_dropout"]))


def _check_extra_layers(c: Context) -> None:
    parts = c.parts
    add = c.report.deviations.append
    # Extra layers: convolutions beyond two per level, anything between the last decoder block and the head.
    extra_found = []
    for stage, convs in parts.convs.items():
        if len(convs) > 2:
            extra = convs[2:]
            label = "before the head" if stage == names.decoder(1) else f"in {stage}"
            described = (
                _describe_convs(extra)
                if len(extra) > 2
                else ", ".join(f"{_conv_text(op)} ({op.channels} filters)" for op in extra)
            )
            extra_found.append(f"{_plural(len(extra), 'more conv')} {label}: {described}")
    skip_levels = {sk.level for sk in parts.skips}
    expected = [names.encoder(k) for k in range(1, parts.depth + 1)] + [names.BOTTLENECK]
    expected += [names.decoder(lv + 1) for lv in sorted(skip_levels, reverse=True)]
    fewer = [stage for stage in expected if len(parts.convs.get(stage, [])) < 2]
    after = [op for op in parts.after_head if pt.activation_of(op) is None and op.kind not in pt.DROPOUT]
    if after:
        extra_found.append("after the head: " + ", ".join(op.kind for op in after))
    if extra_found:
        add(
            Deviation(
                "extra_layers", "; ".join(extra_found), ASPECTS["extra_layers"].paper, meaning("extra_layers", "extra")
            )
        )
    if fewer:
        add(
            Deviation(
                "extra_layers",
                f"fewer than two convs in {', '.join(dict.fromkeys(fewer))}",
                ASPECTS["extra_layers"].paper,
                meaning("extra_layers", "fewer"),
            )
        )
    gates = [op for skip in parts.skips for op in skip.side if op.kind in pt.CONV]
    if gates:
        gated = sum(1 for skip in parts.skips if skip.side)
        add(
            Deviation(
                "extra_layers",
                f"{_describe_convs(gates)} on the copy's way to the concatenation at {_plural(gated, 'level')} "
                "(a gate computed from both paths, as in Attention U-Net)",
                ASPECTS["extra_layers"].paper,
                meaning("extra_layers", "extra"),
            )
        )
    if parts.additions:
        add(
            Deviation(
                "extra_layers",
                _plural(len(parts.additions), "element-wise addition") + " or products of maps",
                ASPECTS["extra_layers"].paper,
                meaning("extra_layers", "residual"),
            )
        )


def _check_head(c: Context) -> None:
    report = c.report
    parts = c.parts
    add = c.report.deviations.append
    # Head.
    k = pt.kernel(parts.head)
    head_paper = ASPECTS["head"].paper
    if pt.is_up(parts.head):
        add(Deviation("head", pt.describe_up(parts.head), head_paper, meaning("head", "up")))
    elif k != 1:
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
    inits = c.inits
    add = c.report.deviations.append
    # Initialisation: the rule, not a number.
    classes = {c for _, c in inits}
    if "other" in classes:
        add(Deviation("init", report.initialiser, ASPECTS["init"].paper, meaning("init", "other")))
    elif "paper-truncated" in classes:
        report.notes.append(Note("init", NOTE_TEXT["init_truncated"].format(rule=report.initialiser)))


def _check_bias(c: Context) -> None:
    main_convs = c.main_convs
    add = c.report.deviations.append
    # Biases.
    no_bias = [op for op in main_convs if op.config.get("use_bias") is False]
    if no_bias:
        normed = sum(any(c.kind in pt.NORM for c in pt.follow(op)) for op in no_bias)
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
    # Notes: the concatenation order.
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

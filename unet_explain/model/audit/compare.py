"""Comparing the recognised parts with the paper: one deviation per aspect, notes, settings and a parameter account.

The paper network compared with is computed by the spec: the model's depth,
the reference's filters (the paper's 64 unless told), and the model's own
input channels and classes (task settings, reported under ``config``). Its
tile is the model's when the paper network accepts it, else the nearest valid
one; a same-padding model is not compared size for size with it, the padding
deviation says what the paper network would need instead.

Every parameter difference is attributed to the aspect that causes it:
normalisation layers, extra layers, missing biases, the up-sampling branch and
the head are counted from the layers themselves; the rest is the width (and
depth) of the network, or says plainly that it is not attributed.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from unet_explain.core import arithmetic as ar
from unet_explain.core import names
from unet_explain.model.audit import parts as pt
from unet_explain.model.audit.aspects import ASPECTS, NOTE_TEXT, meaning
from unet_explain.model.audit.graph import Op
from unet_explain.model.audit.report import AuditReport, Deviation, Note, SkipAudit

if TYPE_CHECKING:
    from unet_explain.config import UNetConfig
    from unet_explain.core.spec import UNetSpec

PAPER_DOWN = "max-pooling 2x2, stride 2"
PAPER_UP = "transposed conv 2x2, stride 2"


def _weights(op: Op) -> int:
    total = 0
    for weight in getattr(op.layer, "weights", []) or []:
        n = 1
        for d in weight.shape:
            n *= int(d)
        total += n
    return total


def _levels_text(levels: list[int], total: int) -> str:
    if len(levels) == total and total > 1:
        return f"all {total} levels"
    return "level" + ("s " if len(levels) > 1 else " ") + ", ".join(map(str, sorted(levels)))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


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


def _paper_for(report: AuditReport, reference: UNetConfig | None) -> tuple[UNetSpec | None, str]:
    from unet_explain.config import UNetConfig
    from unet_explain.core.spec import build_spec

    depth = report.depth
    if not 1 <= depth <= 6:
        return None, f"no paper network to compare with (depth {depth})"
    sides, moved = [], False
    for side in report.input_size:
        if ar.is_valid_side(side, depth, "valid"):
            sides.append(side)
            continue
        below, above = ar.nearest_valid_sides(max(side, 1), depth, "valid")
        choice = above if above is not None else below
        if choice is None:
            return None, f"no valid paper tile near {report.input_size}"
        sides.append(choice)
        moved = True
    base = reference or UNetConfig()
    settings = base.as_dict() | {"input_size": (sides[0], sides[1]), "depth": depth, "padding": "valid"}
    if reference is None:
        settings |= {"in_channels": report.in_channels, "num_classes": max(report.num_classes, 2)}
    config = UNetConfig(**settings)
    size = f"{sides[0]}x{sides[1]}"
    note = (
        f"the paper network for a {size} tile (the valid tile nearest to {report.input_size[0]}x{report.input_size[1]})"
        if moved
        else f"the paper network for the same {size} tile"
    )
    return build_spec(config), (
        f"{note}, depth {depth}, {config.base_filters} base filters, {config.in_channels} input "
        f"channel{'s' if config.in_channels > 1 else ''}, {config.num_classes} classes"
    )


def _cover(side: int, depth: int) -> int | None:
    """The smallest valid tile whose (valid-padding) output is at least ``side`` pixels."""
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
    cover_h, cover_w = _cover(oh, spec.config.depth), _cover(ow, spec.config.depth)
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
        initialiser="; ".join(init_rules) or "unknown",
        head=head,
        size_note=graph.size_note,
    )
    spec, report.paper_note = _paper_for(report, reference)
    report.paper = spec
    _deviations(report, parts, spec, main_convs, inits, dropouts)
    _parameters(report, parts, spec, main_convs)
    report.details = summarise(report)
    return report


def _deviations(
    report: AuditReport,
    parts: pt.Parts,
    spec: UNetSpec | None,
    main_convs: list[Op],
    inits: list[tuple[str, str]],
    dropouts: list[Op],
) -> None:
    add = report.deviations.append
    padding = _padding_deviation(report, spec)
    if padding is not None:
        add(padding)

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

    # Initialisation: the rule, not a number.
    classes = {c for _, c in inits}
    if "other" in classes:
        add(Deviation("init", report.initialiser, ASPECTS["init"].paper, meaning("init", "other")))
    elif "paper-truncated" in classes:
        report.notes.append(Note("init", NOTE_TEXT["init_truncated"].format(rule=report.initialiser)))

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

    # Notes: the concatenation order.
    flipped = [s.level for s in report.skips if not s.copy_first]
    if flipped:
        report.notes.append(
            Note("concat_order", NOTE_TEXT["concat_order"].format(levels=_levels_text(flipped, len(report.skips))))
        )


def _parameters(report: AuditReport, parts: pt.Parts, spec: UNetSpec | None, main_convs: list[Op]) -> None:
    """Attribute the parameter difference from the paper network to the aspects that cause it."""
    if spec is None:
        return
    sources: dict[str, int] = {}

    def put(key: str, n: int) -> None:
        if n:
            sources[key] = sources.get(key, 0) + n

    graph = parts.graph
    put("normalisation", sum(_weights(op) for op in graph.ops if op.kind in pt.NORM))
    first = parts.convs.get(names.encoder(1), [])[:1]
    if first and report.in_channels != spec.config.in_channels:
        k = pt.kernel(first[0])
        put("in_channels", (report.in_channels - spec.config.in_channels) * k * k * first[0].channels)
    put("downsampling", sum(_weights(op) for ops in parts.downs.values() for op in ops))
    extras = [op for convs in parts.convs.values() for op in convs[2:]]
    extra_ids = {id(op) for op in extras}
    put("extra_layers", sum(_weights(op) for op in extras))
    put("extra_layers", sum(_weights(op) for skip in parts.skips for op in skip.side if op.kind not in pt.NORM))
    put("extra_layers", sum(_weights(op) for op in parts.after_head if op.kind not in pt.NORM))
    for op in main_convs:
        if id(op) not in extra_ids and op.config.get("use_bias") is False:
            put("conv_bias", -op.channels)
    # The up-sampling branch, against the paper's up-convolution at this model's channels.
    for skip in parts.skips:
        learned = _weights(skip.up) + sum(_weights(op) for op in skip.up_between if op.kind not in pt.NORM)
        c_in = next((p.channels for p in skip.up.parents if p.spatial is not None), 0)
        put("upsampling", learned - ar.conv_params(2, c_in, c_in // 2))
        # A wider concatenation (channels not halved) widens the first conv after it.
        copy_channels = skip.concat.channels - (skip.up_between[-1] if skip.up_between else skip.up).channels
        reader = next((c for c in skip.concat.children if c.kind in pt.CONV), None)
        if reader is not None:
            k = pt.kernel(reader)
            put("up_channels", (skip.concat.channels - 2 * copy_channels) * k * k * reader.channels)
    # The rest: the width and depth of the network, from the spec at the model's own widths when they double.
    from unet_explain.config import UNetConfig
    from unet_explain.core.spec import build_spec

    widths = report.level_channels
    base = widths[0] if widths else 0
    doubling = base > 0 and all(c == base * 2**k for k, c in enumerate(widths))
    paper_total = spec.totals.params
    if doubling and not (base == spec.config.base_filters and report.depth == spec.config.depth):
        same_width = build_spec(UNetConfig(**(spec.config.as_dict() | {"base_filters": base}))).totals.params
        put("channels", same_width - paper_total)
        paper_total = same_width
    # Main convs that are not plain 3x3 Conv2D (separable, 5x5...) and the head differ from the spec's formula too.
    # The head, against a 1x1 conv from the last decoder conv's channels to the paper's classes.
    last = parts.convs.get(names.decoder(1), [])[:2]
    c_last = last[-1].channels if last else (parts.head.parents[0].channels if parts.head.parents else 0)
    put("head", _weights(parts.head) - ar.conv_params(1, c_last, spec.config.num_classes))
    put(
        "channels" if not doubling else "unattributed",
        report.params - paper_total - sum(n for k, n in sources.items() if k != "channels"),
    )
    report.param_sources = sources
    if report.params != spec.totals.params:
        for i, deviation in enumerate(report.deviations):
            n = sources.get(deviation.aspect)
            if n and not any(d.aspect == deviation.aspect for d in report.deviations[:i]):
                report.deviations[i] = Deviation(
                    deviation.aspect,
                    deviation.found,
                    deviation.paper,
                    f"{deviation.meaning} ({n:+,} parameters)",
                )


def _conv_text(op: Op) -> str:
    k = pt.kernel(op)
    return f"{op.kind.replace('2D', '').lower()} {k}x{k}"


def _describe_convs(ops: list[Op]) -> str:
    """Many convolutions in short: their kinds and kernels."""
    return ", ".join(f"{n} {kind}" for kind, n in Counter(_conv_text(op) for op in ops).items())


def _same(values: list[str]) -> str:
    """One value if every level agrees, else the value per level (deepest first)."""
    return values[0] if len(set(values)) == 1 else " / ".join(values)


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
        "up-sampling": _same([s.upsampling for s in skips]) if skips else "none",
        "after up-sampling": _same([s.after_upsampling for s in skips]) if skips else "none",
        "concatenation": _same(["copy first" if s.copy_first else "up-sampled first" for s in skips])
        if skips
        else "none",
        "normalisation": ", ".join(f"{n} {k}" for k, n in report.normalisation.items()) or "none",
        "dropout": ", ".join(report.dropout) or "none",
        "initialisation": report.initialiser,
        "head": report.head,
        "deviations from the paper": str(len(report.deviations)),
    }

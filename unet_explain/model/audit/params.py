"""The parameter account: the difference from the paper network, by the aspect that causes it.

Normalisation layers, extra layers, missing biases, strided down-sampling, the
up-sampling branch, wider concatenations and the head are counted from the
layers themselves; the rest is the width and depth of the network, computed
by the spec at the model's own widths when they double level by level (any
remainder is reported as not attributed, never hidden).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from unet_explain.core import arithmetic as ar
from unet_explain.core import names
from unet_explain.model.audit import parts as pt
from unet_explain.model.audit.graph import Op
from unet_explain.model.audit.report import AuditReport, Deviation

if TYPE_CHECKING:
    from unet_explain.core.spec import UNetSpec


def _weights(op: Op) -> int:
    total = 0
    for weight in getattr(op.layer, "weights", []) or []:
        n = 1
        for d in weight.shape:
            n *= int(d)
        total += n
    return total


def account(report: AuditReport, parts: pt.Parts, spec: UNetSpec | None, main_convs: list[Op]) -> None:
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

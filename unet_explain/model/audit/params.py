"""The parameter account: the difference from the paper network, split by the aspect that causes it.

The paper network is always the paper's (depth 4, 64 base filters doubling to
1024, or the reference's filters) at the model's input channels and classes.
The split, in this order, so that the shares sum exactly to the difference:

1. **depth**: the levels one network has and the other lacks, counted at the
   widths of the network that has them (a deeper model's extra levels at its
   own widths; a shallower model's missing levels at the paper's), and the
   decoder levels the model leaves out (a decoder stopping at half resolution);
2. **channels**: the model's own widths laid out as the paper lays them out
   (two 3x3 convs per level, a 2x2 up-convolution to the copy's width, a 1x1
   head), against the paper network of the same depth;
3. each layer the paper does not have, or has in another form, to its own
   aspect: normalisation, extra convs, gates and conditioning layers
   (``extra_layers``), strided down-sampling, the up-sampling branch
   (``upsampling`` for its kind, ``up_channels`` for its width and the wider
   concatenation it makes), narrower copies (``skip_source``), the head, convs
   without bias, kernels other than 3x3. Anything left would be shown as not
   attributed, never hidden.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from unet_explain.core import arithmetic as ar
from unet_explain.core import names
from unet_explain.model.audit import parts as pt
from unet_explain.model.audit.graph import Node
from unet_explain.model.audit.report import AuditReport, Deviation

if TYPE_CHECKING:
    from unet_explain.core.spec import UNetSpec

conv = ar.conv_params


def skeleton(in_ch: int, enc: list[int], bottom: int, dec: dict[int, int], present: set[int], classes: int) -> int:
    """Parameters of the paper's layout at these widths (decoder levels not in ``present`` left out)."""
    total, c = 0, in_ch
    for w in enc:
        total += conv(3, c, w) + conv(3, w, w)
        c = w
    total += conv(3, c, bottom) + conv(3, bottom, bottom)
    prev = bottom
    for level in reversed(range(len(enc))):
        if level in present:
            w, d = enc[level], dec.get(level, enc[level])
            total += conv(2, prev, w) + conv(3, 2 * w, d) + conv(3, d, d)
            prev = d
    return total + conv(1, prev, classes)


def _weighted(ops: list[Node]) -> int:
    return sum(n.params for n in ops if n.kind != "norm")


def _in(node: Node) -> int:
    parents = pt.main_parents(node)
    return parents[0].channels if parents else 0


def unplaced(parts: pt.Parts) -> list[Node]:
    """Nodes with weights that no recognised part holds (a squeeze-and-excitation's Dense layers, say)."""
    placed = {id(n) for ops in parts.convs.values() for n in ops}
    placed |= {id(n) for ops in parts.extra_convs.values() for n in ops}
    placed |= {id(n) for ops in parts.downs.values() for n in ops}
    placed |= {id(n) for ops in parts.decoder_ups.values() for n in ops}
    placed |= {id(n) for s in parts.skips for n in s.side} | {id(n) for n in parts.conditioning}
    placed |= {id(n) for n in parts.after_head} | {id(parts.head)}
    return [n for n in parts.graph.nodes if n.params and id(n) not in placed and n.kind not in ("norm", "activation")]


def account(report: AuditReport, parts: pt.Parts, spec: UNetSpec | None) -> None:
    """Attribute the parameter difference from the paper network to the aspects that cause it."""
    if spec is None:
        return
    shares: dict[str, int] = {}

    def put(key: str, n: int) -> None:
        if n:
            shares[key] = shares.get(key, 0) + n

    config = spec.config
    base, classes, d = config.base_filters, config.num_classes, parts.depth
    paper_w = [base * 2**k for k in range(config.depth)]
    paper_b = base * 2**config.depth
    in_ch = report.in_channels
    widths, bottom = parts.enc_widths[:-1], parts.enc_widths[-1]
    every = set(range(d))
    skip_at = {s.level: s for s in parts.skips}
    present = {lv for lv in range(d) if lv in skip_at or parts.convs.get(names.decoder(lv + 1))}
    dec = {lv: parts.dec_widths.get(lv, widths[lv]) for lv in range(d)}
    paper = spec.totals.params
    at_in = skeleton(in_ch, paper_w, paper_b, {}, set(range(config.depth)), classes)
    put("in_channels", at_in - paper)
    full = skeleton(in_ch, widths, bottom, dec, every, classes)
    if d >= config.depth:
        cut = skeleton(in_ch, widths[: config.depth], bottom, dec, set(range(config.depth)), classes)
        put("depth", full - cut)
        put("channels", cut - at_in)
    else:
        shallow = skeleton(in_ch, paper_w[:d], base * 2**d, {}, every, classes)
        put("depth", shallow - at_in)
        put("channels", full - shallow)
    put("depth", skeleton(in_ch, widths, bottom, dec, present, classes) - full)

    # The main convolutions against their places in that layout.
    for level in range(d + 1):
        for region in ("encoder", "decoder"):
            if level == d and region == "decoder":
                continue
            stage = (
                names.BOTTLENECK if level == d else (names.encoder if region == "encoder" else names.decoder)(level + 1)
            )
            if region == "decoder" and level not in present:
                continue
            if region == "encoder":
                w = bottom if level == d else widths[level]
                first_in = in_ch if level == 0 else widths[level - 1]
                expected = [(first_in, w), (w, w)]
            else:
                expected = [(2 * widths[level], dec[level]), (dec[level], dec[level])]
            ops = parts.convs.get(stage, [])
            for i, (c_in, c_out) in enumerate(expected):
                if i >= len(ops):
                    put("extra_layers", -conv(3, c_in, c_out))
                    continue
                node = ops[i]
                k, a_in, a_out = pt.kernel(node), _in(node), node.channels
                bias = bool(node.attr("use_bias", True))
                # Another kind of conv (separable) or kernel (5x5): extra layers; no bias: its own aspect.
                put("extra_layers", node.params - k * k * a_in * a_out - (a_out if bias else 0))
                put("extra_layers", (k * k - 9) * a_in * a_out)
                if not bias:
                    put("conv_bias", -a_out)
                width = conv(3, a_in, a_out) - conv(3, c_in, c_out)
                if region == "decoder" and i == 0:
                    skip = skip_at.get(level)
                    up = skip.up_input.channels if skip else a_in
                    copy = skip.copy_channels if skip else 0
                    # An up-sampled map as wide as the copy at the merge: its width is the copy's aspect.
                    target = skip.up_target(widths[level]) if skip else widths[level]
                    put("up_channels", 9 * (up - target) * a_out)
                    put("skip_source" if skip else "depth", 9 * (copy + target - 2 * widths[level]) * a_out)
                    width -= 9 * (up + copy - 2 * widths[level]) * a_out
                put("channels", width)

    # The up-sampling branch of each decoder level, against a 2x2 up-convolution to the copy's width.
    for level, branch in parts.decoder_ups.items():
        if level not in present:  # an up-sampling into a level without a decoder stage
            put("upsampling", _weighted(branch))
            continue
        prev_s = bottom if level + 1 >= d else dec[level + 1]
        prev_a = _in(branch[0])
        learned = _weighted(branch)
        out = branch[-1].channels
        # An up-conv without a bias: the missing offsets are the bias aspect's, as for the level's convs.
        unbiased = sum(n.channels for n in branch if n.kind in pt.CONVS and n.attr("use_bias") is False)
        put("conv_bias", -unbiased)
        learned += unbiased
        if learned:
            skip = skip_at.get(level)
            target = skip.up_target(widths[level]) if skip else widths[level]
            put("upsampling", learned - conv(2, prev_a, out))
            put("up_channels", conv(2, prev_a, out) - conv(2, prev_a, target))
            put("skip_source", conv(2, prev_a, target) - conv(2, prev_a, widths[level]))
        else:
            put("upsampling", -conv(2, prev_a, widths[level]))
        put("channels", conv(2, prev_a, widths[level]) - conv(2, prev_s, widths[level]))

    # The head, against a 1x1 conv to the classes from what it reads.
    last = min(present) if present else None
    c_last = dec[last] if last is not None else bottom
    head_in = _in(parts.head)
    put("head", parts.head.params - conv(1, head_in, classes))
    put("channels" if head_in != c_last else "head", conv(1, head_in, classes) - conv(1, c_last, classes))

    graph = parts.graph
    put("normalisation", sum(n.params for n in [*graph.nodes, *graph.other_outputs] if n.kind == "norm"))
    put("extra_layers", sum(n.params for n in graph.other_outputs if n.kind != "norm"))
    put("downsampling", sum(n.params for ops in parts.downs.values() for n in ops if id(n) not in parts.block_first))
    put("extra_layers", sum(_weighted(ops) for ops in parts.extra_convs.values()))
    put("extra_layers", sum(_weighted(s.side) for s in parts.skips))
    put("extra_layers", _weighted(parts.conditioning))
    put("extra_layers", _weighted([n for n in parts.after_head if n.kind != "activation"]))
    put("conv_activation", sum(n.params for n in graph.nodes if n.kind == "activation"))
    put("extra_layers", sum(n.params for n in unplaced(parts)))
    put("unattributed", report.params - paper - sum(shares.values()))
    report.param_sources = shares
    if report.params != paper:
        for i, deviation in enumerate(report.deviations):
            n = shares.get(deviation.aspect)
            if n and not any(dv.aspect == deviation.aspect for dv in report.deviations[:i]):
                report.deviations[i] = Deviation(
                    deviation.aspect, deviation.found, deviation.paper, f"{deviation.meaning} ({n:+,} parameters)"
                )

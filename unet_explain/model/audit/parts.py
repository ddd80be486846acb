"""Recognising the parts of a U-Net in a flattened graph, by what each layer does.

* A *level* is a resolution: the input is level 0; an op whose output is
  about half its input's size (a pooling, a strided convolution, anything)
  goes one level down, one about twice as large (a transposed convolution,
  ``UpSampling2D``, a resize) one level up. Valid convolutions, which lose a
  few pixels, stay on their level.
* A *skip connection* is a concatenation joining an up-sampled map with a map
  copied from earlier: of its inputs, the one whose history contains the
  other's is the up-sampled one (it went down to the bottleneck and back),
  the other is the copy. The copy is traced back through size-matching and
  pass-through layers (crop, pad, resize, normalisation, activation, dropout)
  to the map it copies.
* The *encoder* is everything the deepest level depends on; the *bottleneck*
  the deepest level; the *decoder* the rest. Convolutions are counted per
  level in each, so an extra convolution anywhere (before the head, say) is
  found where it sits.
* Activations, normalisation and dropout are read per convolution, from the
  convolution's own ``activation=`` and the layers that follow it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from unet_explain.core import names
from unet_explain.model.audit.graph import Graph, Op
from unet_explain.model.audit.report import AuditError

CONV = {"Conv2D", "SeparableConv2D", "DepthwiseConv2D", "Convolution2D"}
UP_CONV = {"Conv2DTranspose"}
POOL = {"MaxPooling2D", "AveragePooling2D", "MaxPool", "AveragePool"}
NORM = {"BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization"}
ACTIVATION_LAYERS = {"Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax"}
ACTIVATION_OPS = {
    "Relu": "relu",
    "Relu6": "relu6",
    "Elu": "elu",
    "Selu": "selu",
    "Gelu": "gelu",
    "Silu": "silu",
    "Sigmoid": "sigmoid",
    "HardSigmoid": "hard_sigmoid",
    "Softmax": "softmax",
    "LeakyRelu": "leaky_relu",
    "Tanh": "tanh",
    "Mish": "mish",
}
DROPOUT = {"Dropout", "SpatialDropout2D", "GaussianDropout", "AlphaDropout", "GaussianNoise"}
CONCAT = {"Concatenate"}
ADD = {"Add", "Multiply"}
INPUT = "InputLayer"


def _ratio(op: Op) -> float:
    """Output size over input size (1 when it does not apply)."""
    parent = next((p for p in op.parents if p.spatial is not None), None)
    if parent is None or op.spatial is None or not op.spatial[0] or not parent.spatial or not parent.spatial[0]:
        return 1.0
    return op.spatial[0] / parent.spatial[0]


NO_LEVEL_CHANGE = {"Cropping2D", "CenterCrop", "ZeroPadding2D", "Cropping", "Pad"}


def _scale(op: Op) -> int:
    """Levels ``op`` moves the map: +1 per halving (down), -1 per doubling (up), 0 otherwise.

    Layers with a known stride or factor are read from their config, so a
    valid convolution on a tiny map (6 -> 4 pixels) is not mistaken for a
    down-sampling; anything else is judged by its output size.
    """
    if op.kind in CONV or op.kind in POOL:
        stride = _stride(op)
        return round(math.log2(stride)) if stride > 1 else 0
    if op.kind in UP_CONV:
        stride = _stride(op)
        return -round(math.log2(stride)) if stride > 1 else 0
    if op.kind == "UpSampling2D":
        factor = pair(op.config.get("size"), 2)[0]
        return -round(math.log2(factor)) if factor > 1 else 0
    if op.kind in NO_LEVEL_CHANGE:
        return 0
    ratio = _ratio(op)
    return -round(math.log2(ratio)) if ratio <= 1 / 1.5 or ratio >= 1.5 else 0


def is_down(op: Op) -> bool:
    """Whether ``op`` halves the map (or more): a down-sampling."""
    return _scale(op) > 0


def is_up(op: Op) -> bool:
    """Whether ``op`` doubles the map (or more): an up-sampling."""
    return _scale(op) < 0


def activation_of(op: Op) -> str | None:
    """The activation ``op`` applies, if any (``relu``, ``elu``, ``sigmoid``...)."""
    if op.kind in ACTIVATION_OPS:
        return ACTIVATION_OPS[op.kind]
    config = op.config
    if op.kind == "ReLU":
        if config.get("max_value") is not None:
            return f"relu (capped at {config['max_value']:g})"
        return "leaky_relu" if config.get("negative_slope") else "relu"
    if op.kind in ("LeakyReLU", "PReLU", "ELU", "Softmax"):
        return {"LeakyReLU": "leaky_relu", "PReLU": "prelu", "ELU": "elu", "Softmax": "softmax"}[op.kind]
    activation = config.get("activation")
    if isinstance(activation, dict):
        activation = activation.get("config", {}).get("name") or activation.get("class_name")
    if activation in (None, "linear"):
        return None
    return str(activation)


def pair(value: Any, default: int = 1) -> tuple[int, int]:
    """A Keras size setting (``3``, ``(3, 3)``, ``[2, 2]`` or None) as a pair of ints."""
    if isinstance(value, (list, tuple)) and value:
        first = int(value[0]) if value[0] is not None else default
        second = int(value[1]) if len(value) > 1 and value[1] is not None else first
        return first, second
    if isinstance(value, (int, float)):
        return int(value), int(value)
    return default, default


def kernel(op: Op) -> int:
    """The kernel size of a convolution (its first side; 1 when it has none)."""
    return pair(op.config.get("kernel_size"))[0]


def _kernel(op: Op) -> int:
    return kernel(op)


def _stride(op: Op) -> int:
    config = op.config
    if config.get("strides") is not None:
        return pair(config["strides"])[0]
    if config.get("pool_size") is not None:
        return pair(config["pool_size"])[0]
    ratio = _ratio(op)
    return round(1 / ratio) if ratio < 1 else 1


def describe_down(op: Op) -> str:
    """One down-sampling, in words."""
    config = op.config
    if op.kind in POOL:
        pool = pair(config.get("pool_size"), _stride(op))
        kind = "max-pooling" if "Max" in op.kind else "average pooling"
        return f"{kind} {pool[0]}x{pool[1]}, stride {_stride(op)}"
    if op.kind in CONV:
        kind = {"SeparableConv2D": "strided separable conv", "DepthwiseConv2D": "strided depthwise conv"}.get(
            op.kind, "strided conv"
        )
        return f"{kind} {_kernel(op)}x{_kernel(op)}, stride {_stride(op)}"
    return f"{op.kind} (to 1/{round(1 / _ratio(op))} of the size)"


def describe_up(op: Op) -> str:
    """One up-sampling, in words."""
    config = op.config
    if op.kind in UP_CONV:
        return f"transposed conv {_kernel(op)}x{_kernel(op)}, stride {_stride(op)}"
    if op.kind == "UpSampling2D":
        size = pair(config.get("size"), 2)
        return f"{config.get('interpolation', 'nearest')} up-sampling x{size[0]}"
    if op.kind == "Resizing" or op.kind == "Resize":
        return f"{config.get('interpolation', 'bilinear')} resize x{round(_ratio(op))}"
    return f"{op.kind} (x{round(_ratio(op))})"


def describe_initialiser(layer: Any) -> tuple[str, str]:
    """The rule a kernel initialiser follows, and its class: ``paper``, ``paper-truncated`` or ``other``."""
    init = getattr(layer, "kernel_initializer", None) or getattr(layer, "depthwise_initializer", None)
    name = type(init).__name__
    if init is None:
        return "unknown", "other"
    if hasattr(init, "stddev") and name in ("RandomNormal", "TruncatedNormal"):
        kernel = getattr(layer, "kernel", None)
        std = float(init.stddev)
        if kernel is not None and len(kernel.shape) == 4:
            fan_in = int(kernel.shape[0]) * int(kernel.shape[1]) * int(kernel.shape[2])
            if math.isclose(std, math.sqrt(2 / fan_in), rel_tol=0.01):
                truncated = name == "TruncatedNormal"
                rule = "Gaussian, std sqrt(2/fan_in) per layer" + (", truncated" if truncated else "")
                return rule, "paper-truncated" if truncated else "paper"
        return f"{'truncated ' if name == 'TruncatedNormal' else ''}Gaussian, fixed std {std:.4g}", "other"
    if hasattr(init, "scale") and hasattr(init, "mode") and hasattr(init, "distribution"):
        scale, mode, dist = float(init.scale), str(init.mode), str(init.distribution)
        known = {
            (2.0, "fan_in", "truncated_normal"): "He normal",
            (2.0, "fan_in", "untruncated_normal"): "He normal, untruncated",
            (2.0, "fan_in", "normal"): "He normal",
            (2.0, "fan_in", "uniform"): "He uniform",
            (1.0, "fan_avg", "uniform"): "Glorot (Xavier) uniform, Keras's default",
            (1.0, "fan_avg", "truncated_normal"): "Glorot (Xavier) normal",
            (1.0, "fan_in", "uniform"): "LeCun uniform, stock Caffe's 'xavier'",
            (1.0, "fan_in", "truncated_normal"): "LeCun normal",
        }.get((scale, mode, dist), "variance scaling")
        if mode == "fan_avg":
            scale, fan = 2 * scale, "(fan_in+fan_out)"
        else:
            fan = mode
        variance = f"variance {scale:g}/{fan}"
        if dist == "uniform":
            text = f"{known}: uniform, {variance}"
        else:
            spread = f"std sqrt({scale:g}/{fan})"
            text = f"{known}: Gaussian, {spread}" + (
                ", truncated at 2 std" if dist in ("truncated_normal", "normal") else ""
            )
        if scale == 2.0 and mode == "fan_in" and dist != "uniform":
            return text, "paper" if dist == "untruncated_normal" else "paper-truncated"
        return text, "other"
    return name or "unknown", "other"


@dataclass
class Skip:
    """A skip connection, with the ops that make it."""

    concat: Op
    level: int
    """Resolution level of the concatenation (0 = full resolution)."""
    up: Op
    """The up-sampling op."""
    up_between: list[Op]
    """Ops between the up-sampling and the concatenation."""
    source: Op
    """The copied map."""
    matched: list[Op]
    """Ops between the copied map and the concatenation."""
    copy_first: bool
    extra_copies: int = 0
    side: list[Op] = field(default_factory=list)
    """Ops that feed the copy but not the up-sampled map (an attention gate, say); empty in the paper."""
    """Further copies joined by the same concatenation (more than two inputs)."""


@dataclass
class Parts:
    """Everything recognised in one graph."""

    graph: Graph
    levels: dict[int, int]
    """Level of each op, by ``id(op)``."""
    depth: int
    skips: list[Skip]
    """Deepest first."""
    downs: dict[int, list[Op]]
    """Down-sampling ops by the level they leave."""
    stage_of: dict[int, str]
    """Stage (``enc1`` .. ``bottleneck`` .. ``dec1``) of each op, by id."""
    convs: dict[str, list[Op]]
    """The main convolutions (not down-sampling, not up-sampling, not the head), by stage."""
    up_convs: list[Op]
    """Convolutions inside the up-sampling branches (e.g. the 2x2 conv after ``UpSampling2D``)."""
    head: Op
    """The head convolution."""
    head_activation: str | None
    after_head: list[Op] = field(default_factory=list)
    """Ops between the head convolution and the output."""
    additions: list[Op] = field(default_factory=list)
    """Element-wise additions or products of maps (residual or attention connections)."""
    other_concats: list[Op] = field(default_factory=list)
    """Concatenations that are not skip connections."""


def _stage(level: int, depth: int, region: str) -> str:
    if level >= depth:
        return names.BOTTLENECK
    return names.encoder(level + 1) if region == "encoder" else names.decoder(level + 1)


def _single_parent(op: Op) -> Op | None:
    spatial = [p for p in op.parents if p.spatial is not None]
    return spatial[0] if len(spatial) == 1 and len(op.parents) == 1 else None


def _weighted(op: Op) -> bool:
    return bool(getattr(op.layer, "weights", None)) and op.kind not in NORM


def _trace_up(start: Op) -> tuple[Op, list[Op]] | None:
    between: list[Op] = []
    current = start
    for _ in range(64):
        if is_up(current):
            return current, list(reversed(between))
        parent = _single_parent(current)
        if parent is None or is_down(current):
            return None
        between.append(current)
        current = parent
    return None


def _trace_copy(start: Op) -> tuple[Op, list[Op]]:
    matched: list[Op] = []
    current = start
    while True:
        parent = _single_parent(current)
        if parent is None or current.kind in CONV | UP_CONV | POOL or _weighted(current):
            return current, matched
        matched.append(current)
        current = parent


def _popcount(mask: int) -> int:
    return bin(mask).count("1")


def _side(
    ops: list[Op], copy_in: Op, up_branch: Op, matched: list[Op], ancestors: dict[int, int], index: dict[int, int]
) -> list[Op]:
    """Ops feeding the copy but not the up-sampled map, other than the copy's own matching chain."""
    feeds_copy, feeds_up = ancestors[id(copy_in)], ancestors[id(up_branch)]
    chain = {id(op) for op in matched} | {id(copy_in)}
    return [
        op
        for op in ops
        if feeds_copy >> index[id(op)] & 1 and not feeds_up >> index[id(op)] & 1 and id(op) not in chain
    ]


def _skip_of(
    concat: Op,
    ranked: list[Op],
    ancestors: dict[int, int],
    index: dict[int, int],
    levels: dict[int, int],
    ops: list[Op],
) -> Skip | None:
    """The skip connection a concatenation makes, or None if it joins maps of one path."""
    for up_branch in ranked:
        found = _trace_up(up_branch)
        if found is None:
            continue
        up, between = found
        copy_in = next(p for p in ranked if p is not up_branch)
        if ancestors[id(copy_in)] >> index[id(up)] & 1:
            continue  # the other input comes after this up-sampling: one path, not a copy from earlier
        source, matched = _trace_copy(copy_in)
        # The up-sampled map went through the copied map on its way down: the copy is its ancestor
        # (or the copy is gated, multiplied by an attention map computed from both paths).
        if not ancestors[id(up_branch)] >> index[id(source)] & 1 and source.kind not in ADD:
            continue
        return Skip(
            concat,
            levels[id(concat)],
            up,
            between,
            source,
            list(reversed(matched)),
            copy_first=concat.parents.index(copy_in) < concat.parents.index(up_branch),
            extra_copies=len(ranked) - 2,
            side=_side(ops, copy_in, up_branch, matched, ancestors, index),
        )
    return None


def recognise(graph: Graph) -> Parts:
    """Find the levels, skips, stages, convolutions and head of ``graph``; refuse what is not a U-Net."""
    ops = graph.ops
    index = {id(op): i for i, op in enumerate(ops)}
    ancestors: dict[int, int] = {}
    levels: dict[int, int] = {}
    for i, op in enumerate(ops):
        mask = 1 << i
        for parent in op.parents:
            mask |= ancestors[id(parent)]
        ancestors[id(op)] = mask
        spatial_parents = [p for p in op.parents if p.spatial is not None]
        # A join sits on the level of its main input: the one with the longest history (the up-sampled map).
        spatial_parents.sort(key=lambda p: -_popcount(ancestors[id(p)]))
        base = levels[id(spatial_parents[0])] if spatial_parents else 0
        if op.spatial is not None and spatial_parents:
            base += _scale(op)
        levels[id(op)] = base

    name = graph.name
    concats = [op for op in ops if op.kind in CONCAT and op.spatial is not None and len(op.parents) >= 2]
    skips: list[Skip] = []
    other_concats: list[Op] = []
    for concat in concats:
        ranked = sorted(concat.parents, key=lambda p: _popcount(ancestors[id(p)]), reverse=True)
        skip = _skip_of(concat, ranked, ancestors, index, levels, ops)
        if skip is None:
            other_concats.append(concat)
        else:
            skips.append(skip)
    matching = {id(op) for skip in skips for op in skip.matched}
    ups = [op for op in ops if is_up(op) and id(op) not in matching]
    downs_all = [op for op in ops if is_down(op) and id(op) not in matching]
    adds = [op for op in ops if op.kind in ADD and op.spatial is not None and len(op.parents) >= 2]
    if not skips:
        found_parts = []
        if not downs_all:
            found_parts.append("no down-sampling")
        if not ups:
            found_parts.append("no up-sampling")
        if adds:
            found_parts.append(
                f"{len(adds)} element-wise addition{'s' if len(adds) > 1 else ''} (residual connections)"
            )
        if concats:
            found_parts.append(f"{len(concats)} concatenation{'s' if len(concats) > 1 else ''} of maps of one path")
        extra = f" (it has {', '.join(found_parts)})" if found_parts else ""
        raise AuditError(
            f"{name!r} is not a U-Net: no concatenation joins an up-sampled decoder map with a map copied from "
            f"the encoder, and those skip connections are what make a U-Net{extra}"
        )
    depth = max(levels[id(op)] for op in ops if id(op) not in matching)
    if depth < 1:
        raise AuditError(f"{name!r} is not a U-Net: its maps never get smaller than the input (no contracting path)")

    deepest = [op for op in ops if levels[id(op)] == depth and id(op) not in matching]
    encoder_mask = 0
    for op in deepest:
        encoder_mask |= ancestors[id(op)]
    stage_of: dict[int, str] = {}
    for i, op in enumerate(ops):
        region = "encoder" if encoder_mask >> i & 1 else "decoder"
        stage_of[id(op)] = _stage(max(levels[id(op)], 0), depth, region)

    downs: dict[int, list[Op]] = {}
    for op in downs_all:
        parent = next(p for p in op.parents if p.spatial is not None)
        downs.setdefault(levels[id(parent)], []).append(op)

    # The head: the last convolution, and what follows it.
    after_head: list[Op] = []
    current: Op | None = graph.output
    while current is not None and current.kind not in CONV | UP_CONV:
        after_head.append(current)
        current = _single_parent(current)
    if current is None:
        raise AuditError(f"{name!r}: no convolution produces its output, so there is no head to recognise")
    head = current
    head_activation = activation_of(head)
    for op in after_head:
        head_activation = activation_of(op) or head_activation

    up_ids = {id(o) for s in skips for o in s.up_between}
    side_ids = {id(o) for s in skips for o in s.side}
    up_convs = [o for s in skips for o in s.up_between if o.kind in CONV]
    convs: dict[str, list[Op]] = {}
    for op in ops:
        if op.kind in CONV and op is not head and id(op) not in up_ids | side_ids and not is_down(op):
            convs.setdefault(stage_of[id(op)], []).append(op)
    skips.sort(key=lambda s: -s.level)
    return Parts(
        graph=graph,
        levels=levels,
        depth=depth,
        skips=skips,
        downs=downs,
        stage_of=stage_of,
        convs=convs,
        up_convs=up_convs,
        head=head,
        head_activation=head_activation,
        after_head=list(reversed(after_head)),
        additions=adds,
        other_concats=other_concats,
    )


def follow(op: Op) -> list[Op]:
    """The chain of single-reader, single-input layers after ``op`` that only normalise, activate or drop."""
    chain: list[Op] = []
    current = op
    while len(current.children) == 1:
        child = current.children[0]
        if len(child.parents) != 1 or not (
            child.kind in NORM | ACTIVATION_LAYERS | DROPOUT or child.kind in ACTIVATION_OPS
        ):
            break
        chain.append(child)
        current = child
    return chain


def taken(parts: Parts, skip: Skip) -> str:
    """Where a skip's copy is taken: before the down-sampling (the paper), after it, or elsewhere."""
    level = parts.levels[id(skip.source)]
    if level > skip.level:
        return "after down-sampling"
    if skip.source.kind == "Multiply" and skip.side:
        return "gated (multiplied by an attention map)"
    if skip.source.kind == INPUT:
        return "the input image"
    frontier = [skip.source]
    seen: set[int] = set()
    while frontier:
        current = frontier.pop()
        for child in current.children:
            if id(child) in seen:
                continue
            seen.add(id(child))
            if is_down(child):
                return "before down-sampling"
            if not _weighted(child) and _single_parent(child) is not None:
                frontier.append(child)
    return "elsewhere in the level"

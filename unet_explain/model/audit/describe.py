"""The recognised parts in words: a down-sampling, an up-sampling, a conv's padding."""

from __future__ import annotations

from unet_explain.model.audit import parts as pt
from unet_explain.model.audit.graph import Node, pair


def up(node: Node) -> str:
    """One up-sampling, in words."""
    k, factor = pt.kernel(node), 2 ** -pt.scale(node)
    if node.kind == "conv_transpose":
        return f"transposed conv {k}x{k}, stride {pt.stride(node)}"
    if node.kind == "upsample":
        return f"{node.attr('interpolation', 'nearest')} up-sampling x{factor}"
    if node.kind == "resize":
        return f"{node.attr('interpolation', 'bilinear')} resize x{factor}"
    return f"{node.type} (x{factor})"


def down(parts: pt.Parts, node: Node) -> str:
    """One down-sampling, in words."""
    if node.kind == "pool":
        (kh, kw), kind = (
            pair(node.attr("kernel"), 2),
            "max-pooling" if node.attr("pool") == "max" else "average pooling",
        )
        return f"{kind} {kh}x{kw}, stride {pt.stride(node)}"
    if node.kind == "conv":
        k = pt.kernel(node)
        kind = {"separable": "strided separable conv", "depthwise": "strided depthwise conv"}.get(
            node.attr("conv_type"), "strided conv"
        )
        if id(node) in parts.block_first:
            kind = "strided first conv of the block"
        return f"{kind} {k}x{k}, stride {pt.stride(node)}"
    return f"{node.type} (to 1/{2 ** pt.scale(node)} of the size)"


def padding(node: Node) -> str:
    """A conv's padding, counting a zero padding of half the kernel just before a valid conv as 'same'."""
    value = str(node.attr("padding", "valid"))
    parents = pt.main_parents(node)
    if value == "valid" and parents and parents[0].kind == "pad":
        # 'same' means: the output is the input's size divided by the stride (rounded up), however it is padded.
        before = pt.main_parents(parents[0])
        if before and before[0].spatial and node.spatial:
            s = pt.stride(node)
            if all(-(-n // s) == m for n, m in zip(before[0].spatial, node.spatial, strict=True)):
                return "same"
    return value

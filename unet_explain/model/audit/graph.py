"""The neutral graph the audit reads: nodes with an op kind, attributes and output shapes.

Like an ONNX graph or a torch.fx graph after shape propagation, it knows no
framework: a front end (:mod:`.keras_graph` for Keras) writes it, once, and
the recognition (:mod:`.parts`) and the comparison read only this. A second
front end (ONNX, for the PyTorch U-Nets most people train) would write the
same nodes; nothing downstream would change.

Every node has one ``kind`` from :data:`KINDS`; what the kind needs is in
``attrs`` (documented in :data:`ATTRS`). Shapes are batch first, channels last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KINDS = (
    "input",
    "conv",
    "conv_transpose",
    "pool",
    "upsample",
    "resize",
    "concat",
    "add",
    "multiply",
    "activation",
    "norm",
    "crop",
    "pad",
    "reshape",
    "dropout",
    "dense",
    "other",
)
"""The op kinds; ``other`` is anything else (its shapes still place it)."""

ATTRS = {
    "kernel": "(kh, kw) of a conv, transposed conv or pooling window",
    "strides": "(sh, sw)",
    "padding": "'same' or 'valid'",
    "filters": "output channels of a conv",
    "use_bias": "whether a conv adds a bias",
    "conv_type": "'conv', 'separable' or 'depthwise'",
    "activation": "name of the activation a node applies ('relu', 'gelu'), or None",
    "pool": "'max' or 'avg'",
    "factor": "(fh, fw) of an up-sampling",
    "interpolation": "'nearest', 'bilinear', ...",
    "cropping": "((top, bottom), (left, right)) removed by a crop",
    "inferred": "True when a crop was read from the sizes of an opaque block, not from a crop layer",
    "pads": "((top, bottom), (left, right)) added by a pad",
    "rate": "dropout rate",
    "init": "(rule in words, 'paper' | 'paper-truncated' | 'other') of a conv's kernel initialiser",
}
"""Attribute keys a front end may set (all optional)."""


def pair(value: object, default: int = 1) -> tuple[int, int]:
    """A size setting (``3``, ``(3, 3)``, ``[2, 2]`` or None) as a pair of ints."""
    if isinstance(value, (list, tuple)) and value:
        first = int(value[0]) if value[0] is not None else default
        second = int(value[1]) if len(value) > 1 and value[1] is not None else first
        return first, second
    if isinstance(value, (int, float)):
        return int(value), int(value)
    return default, default


@dataclass(eq=False)
class Node:
    """One op of the model: its kind, its attributes and the shape of its output."""

    kind: str
    """One of :data:`KINDS`."""
    name: str
    """The op's name in the model."""
    type: str
    """The framework's own type name (``Conv2D``, ``CropConcatBlock``), for the report's words only."""
    shape: tuple[int | None, ...]
    """Shape of its (first) output, batch first."""
    attrs: dict[str, Any] = field(default_factory=dict)
    """Attributes, keys from :data:`ATTRS`."""
    params: int = 0
    """Parameters it owns (a layer used twice owns them once, at its first use)."""
    parents: list[Node] = field(default_factory=list)
    """The nodes whose outputs it reads, in argument order."""
    children: list[Node] = field(default_factory=list)
    """The nodes that read its output."""

    @property
    def spatial(self) -> tuple[int, int] | None:
        """(height, width) of a 4-D output, else None."""
        if len(self.shape) != 4 or self.shape[1] is None or self.shape[2] is None:
            return None
        return int(self.shape[1]), int(self.shape[2])

    @property
    def channels(self) -> int:
        """Channels of the output (last axis)."""
        return int(self.shape[-1] or 0)

    def attr(self, key: str, default: Any = None) -> Any:
        """An attribute, or ``default``."""
        return self.attrs.get(key, default)

    def __repr__(self) -> str:
        return f"Node({self.kind} {self.name!r} {self.shape})"


@dataclass
class Graph:
    """One traced call of a model, as neutral nodes."""

    name: str
    """The model's name."""
    nodes: list[Node]
    """Every node the output depends on, inputs first (a topological order)."""
    input: Node
    """The image input (the one the encoder reads)."""
    output: Node
    """The node whose output is the segmentation."""
    output_size: tuple[int, int]
    """(height, width) of the segmentation, read back from a flattened output if need be."""
    num_classes: int
    """Channels of the segmentation."""
    params: int
    """Parameters of the nodes (each shared layer once)."""
    size_note: str = ""
    """How the traced input size was chosen when the model leaves it open."""
    training_only: list[str] = field(default_factory=list)
    """Types of the blocks whose code does something else while training (invisible to the trace)."""
    flattened: bool = False
    """Whether the output is a flattened (H*W, classes) map."""
    other_outputs: list[Node] = field(default_factory=list)
    """Nodes only the model's other outputs read (deep-supervision heads): counted in ``params``, never recognised."""

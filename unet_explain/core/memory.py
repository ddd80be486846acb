"""The bytes a training step and an inference pass take, counted tensor by tensor (no TensorFlow).

The paper trained on one 572x572 tile at a time on a 6 GB GPU and favoured
"large input tiles over a large batch size" (section 3). Which tile fits a
given memory is therefore the practical question, and every tensor's size is
already known from the spec. This module replays one step of the network as
TensorFlow runs it and counts what is alive at every moment.

What a training step keeps for the backward pass (TensorFlow's gradient
functions decide; shapes are static, so no op keeps a tensor only for its
shape):

* a convolution keeps its input (for the kernel's gradient) and its ReLU
  output (ReLU's gradient reads the output); bias and ReLU are applied in
  place, so each convolution materialises one tensor;
* a max-pooling keeps its input and its output (its gradient needs both);
* an up-convolution keeps its input; its output is copied into the
  concatenation and freed;
* a crop is a real copy (``Cropping2D`` slices), freed after the
  concatenation; a crop of 0 pixels is the same tensor, no copy;
* a concatenation allocates its output, which the next convolution keeps;
* the loss keeps its gradient with respect to the logits (float32), and the
  batch of images and labels is held throughout.

The backward pass is replayed in reverse: each op turns the gradient of its
output into gradients of its inputs, and each kept tensor is freed after the
last op that reads it. The largest moment of the replay, minus the kept
activations, is the *transient*. Weight gradients are counted in full for the
whole step (an upper bound: they appear one layer at a time).

Not counted: TensorFlow's own runtime (a few hundred MiB, constant),
framework and cuDNN workspace, the allocator's rounding and caching, the
optimizer's temporary tensors, and the graph itself.

Precision ``mixed`` is Keras's ``mixed_float16`` policy: activations and their
gradients in float16 (2 bytes), float32 master weights with float32
gradients and optimizer state, plus the float16 copies of the weights that
the layers compute with; the images, labels and the loss stay float32.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from unet_explain.core import spec as sp
from unet_explain.errors import ConfigError

if TYPE_CHECKING:
    from unet_explain.core.spec import UNetSpec

FLOAT32 = 4
FLOAT16 = 2
INT32 = 4
INT64 = 8

MODES = ("train", "infer")
#: Largest batch accepted: a bound that keeps every answer instant.
MAX_BATCH = 1_000_000
DTYPES = ("float32", "mixed")
#: Slots per weight each optimizer keeps: SGD with momentum (the paper's) one velocity; Adam two moments.
OPTIMIZER_SLOTS = {"sgd": 1, "adam": 2}
#: Keras's optimizer scalars: the step counter (int64) and the learning rate (float32).
OPTIMIZER_SCALARS = INT64 + FLOAT32
#: The loss-scale optimizer of mixed precision adds a scale (float32) and its own step counter (int64).
LOSS_SCALE_SCALARS = FLOAT32 + INT64

BATCHNORM = "batchnorm"  # the 3D U-Net's layer kind (a new output; the ReLU after it works in place)
DATA = "images"
LABELS = "labels"
LOSS = "loss"


@dataclass(frozen=True)
class Node:
    """One tensor the step produces: the op that makes it, what it reads and its size."""

    name: str
    """Layer name (``enc1_conv1``), or ``images`` / ``labels`` / ``loss``."""
    kind: str
    """The spec's layer kind, or ``data`` / ``loss``."""
    inputs: tuple[str, ...]
    """Tensors the op reads."""
    nbytes: int
    """Bytes of the tensor for the whole batch."""
    params: int = 0
    """Weights and biases of the op."""
    view: bool = False
    """The op returns its input's buffer (a crop of 0 pixels): it allocates nothing."""

    @property
    def allocated(self) -> int:
        """Bytes the op allocates (0 for a view)."""
        return 0 if self.view else self.nbytes


@dataclass(frozen=True)
class MemoryUse:
    """Bytes of one training step or one inference pass, broken down."""

    mode: str
    """``train`` or ``infer``."""
    batch: int
    """Tiles per step."""
    tile: tuple[int, ...]
    """Input tile, one size per spatial axis."""
    dtype: str
    """``float32`` or ``mixed``."""
    optimizer: str
    """``sgd`` or ``adam`` (training only; empty for inference)."""
    weights: int
    """float32 weights and biases (mixed: plus their float16 copies)."""
    gradients: int
    """float32 weight gradients (0 for inference)."""
    optimizer_state: int
    """Optimizer slots and scalars (0 for inference)."""
    activations: int
    """Training: what the backward pass keeps (with batch and labels). Inference: the forward peak live set."""
    transient: int
    """Training: how far the live set rises above the kept activations at the step's peak (0 for inference)."""
    views_lower_bound: int
    """The spec's convention (crops and concatenations as free views, ReLU in place) for this tile, batch and dtype."""

    @property
    def total(self) -> int:
        """Everything counted, in bytes."""
        return self.weights + self.gradients + self.optimizer_state + self.activations + self.transient

    def as_dict(self) -> dict[str, Any]:
        """The ``bytes`` object of ``fit``'s JSON contract (plus ``transient`` and the lower bound)."""
        return {
            "weights": self.weights,
            "gradients": self.gradients,
            "optimizer": self.optimizer_state,
            "activations": self.activations,
            "transient": self.transient,
            "total": self.total,
            "views_lower_bound": self.views_lower_bound,
        }


def check_options(mode: str, batch: int, optimizer: str, dtype: str) -> None:
    """Raise :class:`ConfigError` for a mode, batch, optimizer or dtype outside the rules."""
    if mode not in MODES:
        raise ConfigError("mode", f"must be 'train' or 'infer'; got {mode!r}")
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
        raise ConfigError("batch", f"must be a whole number of tiles per step, from 1 to {MAX_BATCH:,}; got {batch!r}")
    if optimizer not in OPTIMIZER_SLOTS:
        raise ConfigError("optimizer", f"must be 'sgd' (the paper's, with momentum) or 'adam'; got {optimizer!r}")
    if dtype not in DTYPES:
        raise ConfigError("dtype", f"must be 'float32' or 'mixed' (float16 activations); got {dtype!r}")


def layer_sizes(spec: UNetSpec, tile: Iterable[int]) -> Callable[[str], tuple[int, ...]]:
    """Sizes of the spec's layers for another input ``tile`` (one side per axis), by layer name.

    The same per-axis trace the spec itself is built from, so a whole spec
    need not be rebuilt for every candidate tile.
    """
    from unet_explain.core import arithmetic as ar

    traces = [ar.trace_side(side, spec.config.depth, spec.config.padding) for side in tile]
    # The softmax is the one layer the trace does not list: it keeps the score map's size.
    return lambda name: tuple(trace.sizes.get(name, trace.output) for trace in traces)


def graph(
    spec: UNetSpec, tile: tuple[int, ...] | None = None, batch: int = 1, dtype: str = "float32", train: bool = True
) -> list[Node]:
    """The step's tensors in forward order, sized for ``tile`` (default: the spec's own) and ``batch``.

    Training ends in the loss (with the labels); inference in the softmax.
    """
    tile = tuple(spec.config.input_size) if tile is None else tuple(tile)
    sizes = layer_sizes(spec, tile) if tile != tuple(spec.config.input_size) else None
    act = FLOAT16 if dtype == "mixed" else FLOAT32

    def nbytes(size: tuple[int, ...], channels: int, per: int) -> int:
        return batch * math.prod(size) * channels * per

    nodes = [Node(DATA, "data", (), nbytes(tile, spec.config.in_channels, FLOAT32))]
    if dtype == "mixed":  # the first layer computes on a float16 copy of the images
        nodes.append(Node("images_float16", "cast", (DATA,), nbytes(tile, spec.config.in_channels, FLOAT16)))
    x = nodes[-1].name
    skips: dict[str, str] = {}
    up = ""
    crop = ""
    for stage in spec.stages:
        for layer in stage.layers:
            size = sizes(layer.name) if sizes else layer.out_size
            if layer.kind == sp.MAXPOOL:
                skips[stage.name] = x
            if layer.kind == sp.CROP:
                assert stage.skip_from is not None
                source = next(n for n in nodes if n.name == skips[stage.skip_from])
                copy = nbytes(size, layer.channels, act)
                crop = layer.name
                nodes.append(Node(layer.name, layer.kind, (source.name,), copy, view=copy == source.nbytes))
                continue
            if layer.kind == sp.SOFTMAX and train:
                out = sizes(layer.name) if sizes else layer.out_size
                labels = Node(LABELS, "data", (), nbytes(out, 1, INT32))
                # The loss reads the logits, keeps its gradient w.r.t. them (float32) and reduces to a scalar.
                nodes += [labels, Node(LOSS, "loss", (x, LABELS), nbytes(out, layer.channels, FLOAT32))]
                continue
            inputs = (crop, up) if layer.kind == sp.CONCAT else (x,)
            nodes.append(Node(layer.name, layer.kind, inputs, nbytes(size, layer.channels, act), layer.params))
            if layer.kind == sp.UPCONV:
                up = layer.name
            x = layer.name
    return nodes


def _kept(node: Node) -> tuple[str, ...]:
    """The tensors an op's gradient reads: they stay alive until its backward step."""
    if node.kind == sp.CONV3X3 or node.kind == sp.MAXPOOL:
        return (*node.inputs, node.name)
    if node.kind in (sp.UPCONV, sp.CONV1X1, BATCHNORM):  # batch normalisation's gradient reads its input
        return node.inputs
    if node.kind == "loss":
        return (node.name, LABELS)
    return ()


def _needs_grad(name: str, by_name: dict[str, Node]) -> bool:
    return by_name[name].kind not in ("data", "cast")


@dataclass(frozen=True)
class Replay:
    """What the replay of one step found."""

    kept: int
    """Bytes kept for the backward pass when the forward pass ends."""
    peak: int
    """Largest live set (activations and activation gradients) at any moment."""
    kept_tensors: dict[str, int]
    """The tensors alive when the forward pass ends, with their bytes."""


def replay(nodes: list[Node], train: bool) -> Replay:
    """Replay the step, freeing each tensor after its last reader; return the kept set and the peak."""
    by_name = {n.name: n for n in nodes}
    last_forward: dict[str, int] = {}
    for i, node in enumerate(nodes):
        for name in node.inputs:
            last_forward[name] = i
    kept_until: dict[str, int] = {}  # tensor -> earliest forward index whose backward reads it
    if train:
        for i, node in enumerate(nodes):
            for name in _kept(node):
                kept_until[name] = min(kept_until.get(name, i), i)
    held = {n.name for n in nodes if n.kind == "data"}  # the caller's batch lives through the step

    live: dict[str, int] = {}
    live_bytes = 0  # sum(live.values()), kept up to date
    peak = 0

    def free_after_forward(i: int, names_: Iterable[str]) -> int:
        freed = 0
        for name in names_:
            if name in live and name not in held and name not in kept_until and last_forward.get(name, -1) <= i:
                freed += live.pop(name)
        return freed

    for i, node in enumerate(nodes):
        live_bytes += node.allocated - live.get(node.name, 0)
        live[node.name] = node.allocated
        peak = max(peak, live_bytes)
        live_bytes -= free_after_forward(i, (*node.inputs, node.name))
    kept = live_bytes
    kept_tensors = dict(live)
    if not train:
        return Replay(kept=kept, peak=peak, kept_tensors=kept_tensors)

    grads: dict[str, int] = {}  # partial gradients waiting for their tensor's backward step
    grad_bytes = 0  # sum(grads.values()), kept up to date
    consumers: dict[str, list[str]] = {n.name: [] for n in nodes}
    for m in nodes:
        for src in dict.fromkeys(m.inputs):
            consumers[src].append(m.name)
    released: dict[int, list[str]] = {}  # backward step -> the kept tensors it reads for the last time
    for name, first in kept_until.items():
        released.setdefault(first, []).append(name)
    for i in range(len(nodes) - 1, -1, -1):
        node = nodes[i]
        if node.kind == "data":
            continue
        # The gradient of this op's output, summed over its readers (in place into the first partial).
        partials = [grads.pop(key) for m in consumers[node.name] if (key := f"{node.name}<-{m}") in grads]
        grad_bytes -= sum(partials)
        # A view passes its gradient through; any other op holds it while it makes its inputs' gradients.
        grad_out = 0 if node.view else max(partials, default=0)
        new = {f"{src}<-{node.name}": by_name[src].nbytes for src in node.inputs if _needs_grad(src, by_name)}
        new_bytes = sum(new.values())
        peak = max(peak, live_bytes + grad_bytes + grad_out + new_bytes)
        grad_bytes += new_bytes - sum(grads[key] for key in new if key in grads)
        grads.update(new)
        for name in released.get(i, ()):
            if name in live and name not in held:
                live_bytes -= live.pop(name)
    return Replay(kept=kept, peak=peak, kept_tensors=kept_tensors)


def kept_by_stage(spec: UNetSpec) -> dict[str, int]:
    """Bytes a training step (batch 1, float32) keeps for the backward pass, by the stage that made them.

    The batch of images counts to the first stage, the labels and the loss's gradient to the output.
    """
    stage_of = {layer.name: stage.name for stage in spec.stages for layer in stage.layers}
    first, last = spec.stages[0].name, spec.stages[-1].name
    found = dict.fromkeys((stage.name for stage in spec.stages), 0)
    for name, nbytes in replay(graph(spec), train=True).kept_tensors.items():
        found[stage_of.get(name, first if name == DATA else last)] += nbytes
    return found


def views_lower_bound(nodes: list[Node]) -> int:
    """The spec's convention for the same tensors: outputs of convolutions, poolings, up-convolutions and the scores."""
    counted = (sp.CONV3X3, sp.MAXPOOL, sp.UPCONV, sp.CONV1X1)
    return sum(n.nbytes for n in nodes if n.kind in counted)


def memory_use(
    spec: UNetSpec,
    *,
    tile: tuple[int, ...] | None = None,
    mode: str = "train",
    batch: int = 1,
    optimizer: str = "sgd",
    dtype: str = "float32",
) -> MemoryUse:
    """The bytes of one training step (``mode="train"``) or one forward pass (``"infer"``) for ``tile``."""
    check_options(mode, batch, optimizer, dtype)
    tile = tuple(spec.config.input_size) if tile is None else tuple(tile)
    train = mode == "train"
    nodes = graph(spec, tile, batch, dtype, train)
    params = spec.totals.params
    weights = FLOAT32 * params + (FLOAT16 * params if dtype == "mixed" else 0)
    result = replay(nodes, train)
    if train:
        scalars = OPTIMIZER_SCALARS + (LOSS_SCALE_SCALARS if dtype == "mixed" else 0)
        gradients, state = FLOAT32 * params, OPTIMIZER_SLOTS[optimizer] * FLOAT32 * params + scalars
        activations, transient = result.kept, result.peak - result.kept
    else:
        gradients = state = transient = 0
        activations = result.peak
    return MemoryUse(
        mode=mode,
        batch=batch,
        tile=tile,
        dtype=dtype,
        optimizer=optimizer if train else "",
        weights=weights,
        gradients=gradients,
        optimizer_state=state,
        activations=activations,
        transient=transient,
        views_lower_bound=views_lower_bound(nodes),
    )

"""The Keras front end: trace a Keras model and write the neutral graph (:mod:`.graph`).

The model is called once on symbolic ``keras.Input``\\ s with ``Layer.__call__``
briefly wrapped so that every *composite* (a nested functional model, a
``Sequential`` block, a ``keras.Model`` subclass, a custom ``Layer`` holding
other layers) runs its ``call`` body in place instead of appearing as one
opaque box. What remains are Keras's own layers and ``keras.ops`` operations,
each recorded by Keras as a node with its input tensors. A custom layer whose
body runs raw TensorFlow (``tf.shape`` slicing, ``tf.concat``) cannot run on
symbolic tensors; it stays one box and is read from its shapes: a box joining
maps into as many channels as they have together is a concatenation (with a
crop when its inputs are larger than its output), a weightless box keeping
its input's shape and named like an activation (``GELU``) is an activation.

The front end (this module, keras_attrs, keras_opaque) is all that reads Keras's private attributes
(``_keras_history``, ``_inbound_nodes``, ``_flatten_layers``). No weight value
is read and no number is computed on an image: shapes only.

The input size is the model's own; when it leaves it open (``None``) the
caller's size is used, or a stated default (572, the paper's tile, or the
nearest size the network accepts).
"""

from __future__ import annotations

import contextlib
import inspect
import math
import re
import sys
from collections.abc import Iterator
from typing import Any

from unet_explain.core import arithmetic as ar
from unet_explain.model.audit.graph import Graph, Node
from unet_explain.model.audit.keras_attrs import ACTIVATION_OPS as _ACTIVATION_OPS
from unet_explain.model.audit.keras_attrs import attrs as _attrs
from unet_explain.model.audit.report import AuditError, ModelLoadError

DEFAULT_SIDE = 572
"""The paper's tile, used when the model leaves its input size open."""

_KINDS = {
    "InputLayer": "input",
    "Conv2D": "conv",
    "Convolution2D": "conv",
    "SeparableConv2D": "conv",
    "DepthwiseConv2D": "conv",
    "Conv2DTranspose": "conv_transpose",
    "MaxPooling2D": "pool",
    "AveragePooling2D": "pool",
    "MaxPool": "pool",
    "AveragePool": "pool",
    "UpSampling2D": "upsample",
    "Resizing": "resize",
    "Resize": "resize",
    "Concatenate": "concat",
    "Add": "add",
    "Subtract": "add",
    "Average": "add",
    "Multiply": "multiply",
    "Activation": "activation",
    "ReLU": "activation",
    "LeakyReLU": "activation",
    "PReLU": "activation",
    "ELU": "activation",
    "Softmax": "activation",
    "BatchNormalization": "norm",
    "Normalization": "norm",
    "LayerNormalization": "norm",
    "GroupNormalization": "norm",
    "UnitNormalization": "norm",
    "Cropping2D": "crop",
    "CenterCrop": "crop",
    "ZeroPadding2D": "pad",
    "Pad": "pad",
    "Reshape": "reshape",
    "Flatten": "reshape",
    "Permute": "reshape",
    "Dropout": "dropout",
    "SpatialDropout2D": "dropout",
    "GaussianDropout": "dropout",
    "AlphaDropout": "dropout",
    "GaussianNoise": "dropout",
    "Dense": "dense",
}
_ACTIVATION_NAMES = re.compile(r"relu|gelu|elu|silu|swish|mish|sigmoid|tanh|softplus|softmax|prelu|hardswish", re.I)
_TRAINING = re.compile(r"\bif\s+(not\s+)?(self\.)?training\b|\btraining\s+(and|or)\b|\bif\s+training\s*(is|==)")


def _opaque(node: Node) -> None:
    """Read an unknown op (a custom layer, a Lambda, a raw operation) from its shapes."""
    spatial = [p for p in node.parents if p.spatial is not None]
    if node.spatial is None or not spatial:
        return
    if len(spatial) >= 2 and node.channels == sum(p.channels for p in spatial):
        node.kind = "concat"
        smallest = min(p.spatial for p in spatial if p.spatial is not None)
        if node.spatial == smallest:
            node.attrs["crops_inside"] = True
        return
    single = len(spatial) == 1 and node.parents == spatial and not node.params
    source = spatial[0].spatial
    if single and source and node.channels == spatial[0].channels:
        (h, w), (sh, sw) = node.spatial, source
        steps = math.log2(h / sh) if h and sh else 0.0
        trims = (h / sh > 0.7 and w / sw > 0.7) or abs(steps - round(steps)) > 0.2
        if h <= sh and w <= sw and (h, w) != (sh, sw) and trims:
            # A slice that trims pixels (a Lambda doing x[:, 4:-4, 4:-4]) to no power-of-two size: a crop,
            # centred as far as the sizes tell. (One to exactly half the size is read as a down-sampling.)
            node.kind = "crop"
            node.attrs.update(
                cropping=(((sh - h) // 2, sh - h - (sh - h) // 2), ((sw - w) // 2, sw - w - (sw - w) // 2))
            )
            node.attrs["inferred"] = True
            return
    keeps_shape = len(spatial) == 1 and node.parents == spatial and node.shape == spatial[0].shape
    named = node.type in _ACTIVATION_OPS or _ACTIVATION_NAMES.search(node.type)
    if keeps_shape and not node.params and named:
        node.kind = "activation"
        node.attrs["activation"] = _ACTIVATION_OPS.get(node.type, node.type.lower())


def _insert_crops(nodes: list[Node]) -> list[Node]:
    """An opaque block that crops and concatenates: a crop node (centred, read from the sizes) per larger input."""
    out: list[Node] = []
    for node in nodes:
        if node.attrs.pop("crops_inside", False) and node.spatial is not None:
            h, w = node.spatial
            for i, parent in enumerate(node.parents):
                if parent.spatial is None or parent.spatial == node.spatial:
                    continue
                dh, dw = parent.spatial[0] - h, parent.spatial[1] - w
                crop = Node(
                    "crop",
                    f"{node.name}/crop{i}",
                    node.type,
                    (None, h, w, parent.channels),
                    {"cropping": ((dh // 2, dh - dh // 2), (dw // 2, dw - dw // 2)), "inferred": True},
                )
                parent.children[parent.children.index(node)] = crop
                crop.parents, crop.children = [parent], [node]
                node.parents[i] = crop
                out.append(crop)
        out.append(node)
    return out


def _is_keras_class(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] == "keras"


def _sublayers(layer: Any) -> list[Any]:
    try:
        return list(layer._flatten_layers(include_self=False, recursive=False))
    except Exception:
        return []


def _trains_differently(layer: Any) -> bool:
    try:
        source = inspect.getsource(type(layer).call)
    except (OSError, TypeError):
        return False
    return bool(_TRAINING.search(source))


@contextlib.contextmanager
def _inlining(keras: Any, training_only: list[str]) -> Iterator[None]:
    """Run composite layers' ``call`` bodies in place while the model is traced."""
    original = keras.layers.Layer.__call__

    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        custom = not _is_keras_class(self)
        if custom and type(self).__name__ not in training_only and _trains_differently(self):
            training_only.append(type(self).__name__)
        composite = isinstance(self, keras.Model) or (custom and _sublayers(self))
        if not composite:
            return original(self, *args, **kwargs)
        if not getattr(self, "built", True):
            # Let Keras build it first (a build() may create the very layers the call body uses).
            with contextlib.suppress(Exception):
                original(self, *args, **kwargs)
        try:
            accepted = inspect.signature(self.call).parameters
            if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
                kwargs = {k: v for k, v in kwargs.items() if k in accepted}
            return self.call(*args, **kwargs)
        except Exception:
            # Its body does something a symbolic tensor cannot (a raw TensorFlow call): keep it as one box.
            return original(self, *args, **kwargs)

    keras.layers.Layer.__call__ = call
    try:
        yield
    finally:
        keras.layers.Layer.__call__ = original


def _input_specs(model: Any, keras: Any, in_channels: int | None) -> tuple[Any, list[tuple[Any, ...]]]:
    """The model's inputs as a structure (KerasTensors of a functional model), and their 4-D shapes."""
    struct = getattr(model, "_inputs_struct", None)
    if struct is not None:
        flat = [tuple(t.shape) for t in keras.tree.flatten(struct)]
        return struct, [s for s in flat if len(s) == 4]
    built = getattr(model, "_build_shapes_dict", None) or {}
    for shape in built.values():
        if isinstance(shape, (tuple, list)) and len(shape) == 4:
            return None, [tuple(shape)]
    return None, [(None, None, None, in_channels or 1)]


def _area(shape: tuple[Any, ...]) -> float:
    return math.inf if shape[1] is None or shape[2] is None else float(shape[1] * shape[2])


def _filled(shape: tuple[Any, ...], side: tuple[int, int], in_channels: int | None) -> tuple[Any, ...]:
    if len(shape) != 4:
        return (None, *shape[1:])
    return (None, shape[1] or side[0], shape[2] or side[1], shape[3] or in_channels or 1)


def _default_sides() -> list[int]:
    """572 first, then sizes near it that other depths and paddings accept, nearest first."""
    sides = {DEFAULT_SIDE, 576, 512, 560}
    for depth in range(1, 7):
        below, above = ar.nearest_valid_sides(DEFAULT_SIDE, depth, "valid")
        sides.update(s for s in (below, above) if s is not None)
    return sorted(sides, key=lambda s: (abs(s - DEFAULT_SIDE), s))[:8]


def _boxed(node: Node, found: tuple[Any, Any]) -> Node:
    """Mark a node that is a custom layer kept whole (its body ran raw TensorFlow), to be opened after the walk."""
    operation = found[0]
    if node.kind == "other" and not _is_keras_class(operation) and _sublayers(operation):
        node._box = found  # type: ignore[attr-defined]
    return node


def _walk(outputs: list[Any]) -> list[Node]:
    """Every node behind ``outputs``, inputs first, as neutral nodes."""
    made: dict[int, Node] = {}
    owners: set[int] = set()
    order: list[Node] = []

    def make(operation: Any, tensor: Any) -> Node:
        type_name = type(operation).__name__
        kind = _KINDS.get(type_name, "activation" if type_name in _ACTIVATION_OPS else "other")
        params = 0
        if id(operation) not in owners:
            owners.add(id(operation))
            for weight in getattr(operation, "weights", []) or []:
                params += math.prod(int(d) for d in weight.shape)
        return Node(
            kind, str(operation.name), type_name, tuple(tensor.shape), _attrs(kind, type_name, operation), params
        )

    def history(tensor: Any) -> tuple[Any, Any] | None:
        found = getattr(tensor, "_keras_history", None)
        if found is None:
            return None
        operation, node_index, _ = found
        return operation, operation._inbound_nodes[node_index]

    for tensor in outputs:
        found = history(tensor)
        if found is None:
            raise AuditError("the model's output does not come from Keras layers (no graph to walk)")
        if id(found[1]) in made:
            continue
        root = made[id(found[1])] = _boxed(make(found[0], tensor), found)
        # Iterative depth-first walk: deep graphs (Keras Applications) exceed Python's recursion limit.
        stack = [(root, list(found[1].input_tensors), 0)]
        while stack:
            current, inputs, i = stack.pop()
            if i == len(inputs):
                order.append(current)
                continue
            stack.append((current, inputs, i + 1))
            parent_found = history(inputs[i])
            if parent_found is None:  # a constant, not a layer's output
                continue
            key = id(parent_found[1])
            if key in made:
                parent = made[key]
                current.parents.append(parent)
                parent.children.append(current)
                continue
            parent = made[key] = _boxed(make(parent_found[0], inputs[i]), parent_found)
            current.parents.append(parent)
            parent.children.append(current)
            stack.append((parent, list(parent_found[1].input_tensors), 0))
    for node in list(order):
        found = getattr(node, "_box", None)
        if found is not None:
            order = _open_box(node, found, order, make)
    for node in order:
        if node.kind == "other":
            _opaque(node)
    return _insert_crops(order)


def _open_box(box: Node, found: tuple[Any, Any], order: list[Node], make: Any) -> list[Node]:
    """Replace a custom layer kept as one box by the layers and raw operations inside it, when they can be read."""
    from unet_explain.model.audit.keras_opaque import expand
    from unet_explain.model.keras_unet import load_keras

    operation, inbound = found
    expanded = expand(load_keras(), operation, inbound.arguments, list(box.parents), make)
    if expanded is None:
        return order
    inside, output = expanded
    if sum(n.params for n in inside) != box.params:
        return order  # weights of its own beyond its layers: keep the box, read from its shapes
    for parent in box.parents:
        parent.children = [c for c in parent.children if c is not box]
    output.children = box.children
    for child in box.children:
        child.parents = [output if p is box else p for p in child.parents]
    at = order.index(box)
    return order[:at] + inside + order[at + 1 :]


class _SizeMismatch(Exception):
    """A join of maps of different sizes: the traced size does not fit."""


def _check_joins(nodes: list[Node]) -> None:
    for node in nodes:
        if node.kind not in ("concat", "add", "multiply") or node.spatial is None:
            continue
        sizes = {p.spatial for p in node.parents if p.spatial is not None and p.spatial != (1, 1)}
        if len(sizes) > 1:
            shown = ", ".join(f"{h}x{w}" for h, w in sorted(s for s in sizes if s is not None))
            raise _SizeMismatch(f"{node.type} {node.name!r} joins maps of {shown}")


def _image_output(tensors: list[Any]) -> tuple[Any, tuple[int, int] | None] | None:
    """The segmentation among the outputs: the largest 4-D map, or a flattened (H*W, C) one read back."""
    images = [t for t in tensors if len(t.shape) == 4 and t.shape[1] and t.shape[2]]
    if images:
        # Deep supervision gives several outputs; the segmentation is the largest, and of maps of one size the one
        # behind which most of the network lies (the deepest nested decoder's, not an early supervision head).
        return max(images, key=lambda t: (int(t.shape[1]) * int(t.shape[2]), len(_walk([t])))), None
    for tensor in tensors:
        if len(tensor.shape) == 3 and tensor.shape[1]:
            return tensor, (0, 0)
    return None


def _unflatten(nodes: list[Node], output: Node) -> tuple[int, int] | None:
    """The (H, W) a flattened (H*W, C) output was reshaped from, following single inputs back."""
    current: Node | None = output
    for _ in range(16):
        if current is None:
            return None
        if current.spatial is not None:
            h, w = current.spatial
            return (h, w) if h * w == output.shape[1] else None
        current = current.parents[0] if len(current.parents) == 1 else None
    return None


def _reach(node: Node) -> int:
    """How many nodes read ``node``'s output, directly or not."""
    seen: set[int] = set()
    frontier = [node]
    while frontier:
        for child in frontier.pop().children:
            if id(child) not in seen:
                seen.add(id(child))
                frontier.append(child)
    return len(seen)


def _graph(model: Any, outputs: list[Any], training_only: list[str]) -> Graph:
    found = _image_output(outputs)
    if found is None:
        raise AuditError(f"{model.name!r} has no image output (no output of shape height x width x classes)")
    tensor, flat = found
    nodes = _walk([tensor])
    _check_joins(nodes)
    output = nodes[-1]
    size = output.spatial
    if flat is not None:
        size = _unflatten(nodes, output)
        if size is None:
            raise AuditError(
                f"{model.name!r} has no image output: its output {tuple(tensor.shape)} is neither a map "
                "(height x width x classes) nor a flattened one reshaped from a map"
            )
    inputs = [n for n in nodes if n.kind == "input" and n.spatial is not None]
    if not inputs or size is None:
        raise AuditError(f"{model.name!r}: its output does not depend on an image input")
    # The image is the input the encoder reads: the largest map (a conditioning input is 1x1 or a vector), and of
    # maps of one size the one most of the network reads (not a weight map used at the end, say).
    image = max(inputs, key=lambda n: (n.spatial[0] * n.spatial[1] if n.spatial else 0, _reach(n)))
    # The other outputs (deep-supervision heads) are not recognised, but their layers are the model's: the total
    # counts every layer once, and the layers only they use are kept aside for the parameter account.
    seen = {n.name for n in nodes}
    traced = [t for t in outputs if getattr(t, "_keras_history", None) is not None]
    others = [n for n in _walk(traced) if n.name not in seen] if len(traced) > 1 else []
    return Graph(
        str(model.name),
        nodes,
        image,
        output,
        size,
        output.channels,
        sum(n.params for n in nodes) + sum(n.params for n in others),
        training_only=training_only,
        flattened=flat is not None,
        other_outputs=others,
    )


def _trace_once(model: Any, keras: Any, struct: Any, side: tuple[int, int], in_channels: int | None) -> Any:
    training_only: list[str] = []
    if struct is None:
        inputs: Any = keras.Input(batch_shape=(None, side[0], side[1], in_channels or 1))
    else:
        inputs = keras.tree.map_structure(
            lambda t: keras.Input(
                batch_shape=_filled(tuple(t.shape), side, in_channels), dtype=t.dtype, name=getattr(t, "name", None)
            ),
            struct,
        )
    with _inlining(keras, training_only), contextlib.redirect_stdout(sys.stderr):
        return model(inputs), training_only


def trace(model: Any, input_size: tuple[int, int] | None = None, in_channels: int | None = None) -> Graph:
    """Call ``model`` on symbolic inputs and return its neutral graph.

    ``input_size`` is used where the model leaves the size open (or has never
    been built); without it, 572 or the nearest size the network accepts.
    """
    from unet_explain.model.keras_unet import load_keras

    keras = load_keras()
    struct, images = _input_specs(model, keras, in_channels)
    if not images:
        shapes = [tuple(t.shape) for t in keras.tree.flatten(struct)] if struct is not None else []
        volume = " (it takes a volume, depth x height x width x channels: the audit reads 2-D U-Nets)"
        raise AuditError(
            f"{model.name!r} has no image input (no input of shape height x width x channels)"
            + (volume if any(len(s) == 5 for s in shapes) else "")
        )
    image = max(images, key=_area)
    if struct is None:
        in_channels = in_channels or image[3]
    open_size = image[1] is None or image[2] is None
    if not open_size:
        candidates: list[tuple[int, int]] = [(int(image[1]), int(image[2]))]
    elif input_size is not None:
        candidates = [input_size]
    else:
        candidates = [(s, s) for s in _default_sides()]
    failures: list[str] = []
    for side in candidates:
        try:
            outputs, training_only = _trace_once(model, keras, struct, side, in_channels)
        except AuditError:
            raise
        except Exception as err:
            failures.append(f"{side[0]}x{side[1]}: {type(err).__name__}: {str(err).strip().splitlines()[0][:200]}")
            continue
        try:
            graph = _graph(model, keras.tree.flatten(outputs), training_only)
        except _SizeMismatch as err:
            # Layers built for an open size do not re-check their inputs: a join of unequal maps means this
            # size does not fit the network.
            failures.append(f"{side[0]}x{side[1]}: {err}")
            continue
        if open_size:
            if input_size is not None:
                note = f"the model leaves its input size open; traced at {side[0]}x{side[1]} (--input-size)"
            elif side[0] == DEFAULT_SIDE:
                note = f"the model leaves its input size open; traced at the paper's {DEFAULT_SIDE}x{DEFAULT_SIDE}"
            else:
                note = (
                    f"the model leaves its input size open and does not accept the paper's {DEFAULT_SIDE}; "
                    f"traced at {side[0]}x{side[1]}, the nearest size it accepts (--input-size sets another)"
                )
            graph.size_note = note
        return graph
    if not open_size:
        raise ModelLoadError(f"{model.name!r} could not be called on its own input shape ({failures[0]})")
    if input_size is not None:
        raise AuditError(f"{model.name!r} does not accept --input-size {side[0]}x{side[1]} ({failures[0]})")
    raise AuditError(
        f"{model.name!r} leaves its input size open and accepts none of {', '.join(str(s[0]) for s in candidates)} "
        f"({failures[0]}); pass --input-size"
    )

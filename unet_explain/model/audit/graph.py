"""The model's graph, flattened into primitive Keras layers and operations.

Whatever way the model was written, it is called once on a symbolic
``keras.Input`` with ``Layer.__call__`` briefly wrapped so that every *composite*
(a nested functional model, a ``Sequential`` block, a ``keras.Model`` subclass,
a custom ``Layer`` holding other layers) runs its ``call`` body in place instead
of appearing as one opaque box. What remains are Keras's own layers
(``Conv2D``, ``MaxPooling2D``, ...) and ``keras.ops`` operations, each recorded
by Keras as a node with its input tensors: the graph walked here. No weight
value is read, and no number is computed on an image.

The input size is the model's own; when the model leaves it open (``None``)
the caller's size is used, or a stated default (572, the paper's tile, or the
nearest size the network accepts).
"""

from __future__ import annotations

import contextlib
import inspect
import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from unet_explain.core import arithmetic as ar
from unet_explain.model.audit.report import AuditError, ModelLoadError

DEFAULT_SIDE = 572
"""The paper's tile, used when the model leaves its input size open."""


@dataclass(eq=False)
class Op:
    """One call of a primitive layer or operation in the flattened graph."""

    layer: Any
    """The Keras layer or operation."""
    kind: str
    """Its class name (``Conv2D``)."""
    name: str
    """Its name."""
    shape: tuple[int | None, ...]
    """Shape of its (first) output, batch first."""
    parents: list[Op] = field(default_factory=list)
    """The ops whose outputs it reads, in argument order."""
    children: list[Op] = field(default_factory=list)
    """The ops that read its output."""

    @property
    def config(self) -> dict[str, Any]:
        """The layer's config ({} for an operation without one)."""
        try:
            config = self.layer.get_config()
        except Exception:
            return {}
        return config if isinstance(config, dict) else {}

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

    def __repr__(self) -> str:
        return f"Op({self.kind} {self.name!r} {self.shape})"


@dataclass
class Graph:
    """The flattened graph of one traced call."""

    name: str
    """The model's name."""
    ops: list[Op]
    """Every op, inputs first (a topological order)."""
    input: Op
    """The image input."""
    output: Op
    """The segmentation output."""
    params: int
    """Parameters of the layers the graph uses (each shared layer once)."""
    size_note: str = ""
    """How the traced input size was chosen when the model leaves it open."""


def _is_keras_class(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] == "keras"


def _sublayers(layer: Any) -> list[Any]:
    try:
        return list(layer._flatten_layers(include_self=False, recursive=False))
    except Exception:
        return []


@contextlib.contextmanager
def _inlining(keras: Any) -> Iterator[None]:
    """Run composite layers' ``call`` bodies in place while the model is traced."""
    original = keras.layers.Layer.__call__

    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        composite = isinstance(self, keras.Model) or (not _is_keras_class(self) and _sublayers(self))
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
    """The model's inputs as a structure of shapes (KerasTensors of a functional model), and the 4-D shapes."""
    struct = getattr(model, "_inputs_struct", None)
    if struct is not None:
        flat = [tuple(t.shape) for t in keras.tree.flatten(struct)]
        return struct, [s for s in flat if len(s) == 4]
    built = getattr(model, "_build_shapes_dict", None) or {}
    for shape in built.values():
        if isinstance(shape, (tuple, list)) and len(shape) == 4:
            return None, [tuple(shape)]
    return None, [(None, None, None, in_channels or 1)]


def _filled(shape: tuple[Any, ...], side: tuple[int, int], in_channels: int | None) -> tuple[Any, ...]:
    if len(shape) != 4:
        return (None, *shape[1:])
    return (None, shape[1] or side[0], shape[2] or side[1], shape[3] or in_channels or 1)


def _keras() -> Any:
    from unet_explain.model.keras_unet import load_keras

    return load_keras()


def _default_sides() -> list[int]:
    """572 first, then sizes near it that other depths and paddings accept, nearest first."""
    sides = {DEFAULT_SIDE, 576, 512, 560}
    for depth in range(1, 7):
        below, above = ar.nearest_valid_sides(DEFAULT_SIDE, depth, "valid")
        sides.update(s for s in (below, above) if s is not None)
    return sorted(sides, key=lambda s: (abs(s - DEFAULT_SIDE), s))[:8]


def _walk(outputs: list[Any]) -> list[Op]:
    """Every op behind ``outputs``, inputs first."""
    made: dict[int, Op] = {}
    order: list[Op] = []

    def visit(tensor: Any) -> Op:
        history = getattr(tensor, "_keras_history", None)
        if history is None:
            raise AuditError("the model's output does not come from Keras layers (no graph to walk)")
        operation, node_index, _ = history
        node = operation._inbound_nodes[node_index]
        key = id(node)
        if key in made:
            return made[key]
        op = Op(operation, type(operation).__name__, str(operation.name), tuple(tensor.shape))
        made[key] = op
        stack = [(op, list(node.input_tensors), 0)]
        # Iterative depth-first walk: deep graphs (Keras Applications) exceed Python's recursion limit.
        while stack:
            current, inputs, i = stack.pop()
            if i == len(inputs):
                order.append(current)
                continue
            stack.append((current, inputs, i + 1))
            parent_tensor = inputs[i]
            history = getattr(parent_tensor, "_keras_history", None)
            if history is None:  # a constant, not a layer's output
                continue
            p_op, p_index, _ = history
            p_node = p_op._inbound_nodes[p_index]
            p_key = id(p_node)
            if p_key in made:
                parent = made[p_key]
                current.parents.append(parent)
                parent.children.append(current)
                continue
            parent = Op(p_op, type(p_op).__name__, str(p_op.name), tuple(parent_tensor.shape))
            made[p_key] = parent
            current.parents.append(parent)
            parent.children.append(current)
            stack.append((parent, list(p_node.input_tensors), 0))
        return op

    for tensor in outputs:
        visit(tensor)
    return order


def _params(ops: list[Op]) -> int:
    seen: set[int] = set()
    total = 0
    for op in ops:
        for weight in getattr(op.layer, "weights", []) or []:
            if id(weight) not in seen:
                seen.add(id(weight))
                total += math.prod(int(d) for d in weight.shape)
    return total


def _trace_once(model: Any, keras: Any, struct: Any, shape: tuple[Any, ...]) -> Any:
    if struct is None:
        inputs: Any = keras.Input(batch_shape=shape)
    else:
        inputs = keras.tree.map_structure(
            lambda t: keras.Input(batch_shape=_filled(tuple(t.shape), shape[1:3], shape[3]), dtype=t.dtype), struct
        )
    with _inlining(keras), contextlib.redirect_stdout(sys.stderr):
        return model(inputs)


def trace(model: Any, input_size: tuple[int, int] | None = None, in_channels: int | None = None) -> Graph:
    """Call ``model`` on a symbolic input and return its flattened graph.

    ``input_size`` is used where the model leaves the size open (or has never
    been built); without it, 572 or the nearest size the network accepts.
    """
    keras = _keras()
    struct, images = _input_specs(model, keras, in_channels)
    if not images:
        raise AuditError(f"{model.name!r} has no image input (no input of shape height x width x channels)")
    image = images[0]
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
            outputs = _trace_once(model, keras, struct, _filled(image, side, in_channels))
        except AuditError:
            raise
        except Exception as err:
            failures.append(f"{side[0]}x{side[1]}: {type(err).__name__}: {str(err).strip().splitlines()[0][:200]}")
            continue
        try:
            graph = _graph(model, keras.tree.flatten(outputs), "")
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


class _SizeMismatch(Exception):
    """A join (concatenation, addition) of maps of different sizes: the traced size does not fit."""


def _check_joins(ops: list[Op]) -> None:
    for op in ops:
        sizes = {p.spatial for p in op.parents if p.spatial is not None}
        if len(op.parents) > 1 and len(sizes) > 1 and op.spatial is not None:
            shown = ", ".join(f"{h}x{w}" for h, w in sorted(s for s in sizes if s is not None))
            raise _SizeMismatch(f"{op.kind} {op.name!r} joins maps of {shown}")


def _graph(model: Any, outputs: list[Any], note: str) -> Graph:
    images = [t for t in outputs if len(t.shape) == 4]
    if not images:
        raise AuditError(f"{model.name!r} has no image output (no output of shape height x width x classes)")
    # Deep supervision gives several outputs; the segmentation is the largest.
    main = max(images, key=lambda t: int(t.shape[1] or 0) * int(t.shape[2] or 0))
    ops = _walk([main])
    _check_joins(ops)
    inputs = [op for op in ops if op.kind == "InputLayer" and op.spatial is not None]
    if not inputs:
        raise AuditError(f"{model.name!r}: its output does not depend on an image input")
    return Graph(str(model.name), ops, inputs[0], ops[-1], _params(ops), note)

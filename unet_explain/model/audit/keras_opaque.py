"""Seeing inside a custom Keras layer whose body runs raw TensorFlow (``tf.concat``, ``tf.shape`` slicing).

Such a body cannot run on symbolic Keras tensors, so the trace keeps the
layer as one box. Here the box's ``call`` is traced once more as a TensorFlow
graph (the way Keras itself infers its output shape), with the layers it calls
recorded as they run. Walking that graph back from the box's output gives the
layers it holds and the raw operations between them (a concatenation, a
slice that crops, a resize, a sum), each with its static shape: neutral nodes
that take the box's place. Only shapes are computed, never a number.

Part of the Keras front end; used only with the TensorFlow backend. Anything
unexpected leaves the box as it was (it is then read from its shapes).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from unet_explain.model.audit.graph import Node

_TF_KINDS = {
    "ConcatV2": "concat",
    "Concat": "concat",
    "ResizeBilinear": "resize",
    "ResizeNearestNeighbor": "resize",
    "ResizeBicubic": "resize",
    "ScaleAndTranslate": "resize",
    "AddV2": "add",
    "Add": "add",
    "Sub": "add",
    "Mul": "multiply",
    "MaxPool": "pool",
    "AvgPool": "pool",
    "Pad": "pad",
    "PadV2": "pad",
    "MirrorPad": "pad",
    "StridedSlice": "crop",
    "Slice": "crop",
}
_TF_ACTIVATIONS = {
    "Relu": "relu",
    "Relu6": "relu6",
    "Elu": "elu",
    "Selu": "selu",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "Softplus": "softplus",
    "LeakyRelu": "leaky_relu",
    "Gelu": "gelu",
    "Softmax": "softmax",
}


def _shape(tensor: Any) -> tuple[int | None, ...] | None:
    try:
        dims = tensor.shape.as_list()
    except (AttributeError, ValueError):
        return None
    return (None, *dims[1:]) if dims else None


def expand(
    keras: Any, layer: Any, arguments: Any, parents: list[Node], make: Callable[[Any, Any], Node]
) -> tuple[list[Node], Node] | None:
    """The nodes inside ``layer`` (called on ``arguments``, whose Keras tensors ``parents`` stand for).

    ``make(layer, tensor)`` writes a node for a Keras layer. Returns the new
    nodes (inputs first) and the one whose output is the box's, or None.
    """
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    keras_tensors = list(arguments.keras_tensors)
    if len(keras_tensors) != len(parents):
        return None
    records: dict[Any, tuple[Any, list[Any]]] = {}
    placeholders: dict[Any, Node] = {}
    original = keras.layers.Layer.__call__

    def recording(self: Any, *args: Any, **kwargs: Any) -> Any:
        out = original(self, *args, **kwargs)
        ins = [t for t in keras.tree.flatten((args, kwargs)) if tf.is_tensor(t)]
        for tensor in keras.tree.flatten(out):
            if tf.is_tensor(tensor) and tensor.ref() not in records:
                records[tensor.ref()] = (self, ins)
        return out

    def body(*xs: Any) -> Any:
        for x, parent in zip(xs, parents, strict=True):
            placeholders[x.ref()] = parent
        args, kwargs = arguments.fill_in({id(kt): x for kt, x in zip(keras_tensors, xs, strict=True)})
        keras.layers.Layer.__call__ = recording
        try:
            return layer.call(*args, **kwargs)
        finally:
            keras.layers.Layer.__call__ = original

    specs = [tf.TensorSpec((1, *kt.shape[1:]), kt.dtype) for kt in keras_tensors]
    try:
        with contextlib.redirect_stdout(None):
            graph = tf.function(body, autograph=False).get_concrete_function(*specs).graph
        outputs = [t for t in graph.structured_outputs] if isinstance(graph.structured_outputs, list) else None
        output = (outputs or [graph.structured_outputs])[0]
    except Exception:
        return None
    made: dict[Any, Node | None] = {}
    order: list[Node] = []

    def link(node: Node, inputs: list[Node]) -> Node:
        node.parents = inputs
        for parent in inputs:
            parent.children.append(node)
        order.append(node)
        return node

    def visit(tensor: Any) -> Node | None:
        key = tensor.ref()
        if key in made:
            return made[key]
        made[key] = None
        if key in placeholders:
            made[key] = placeholders[key]
            return made[key]
        shape = _shape(tensor)
        if key in records:
            sub, ins = records[key]
            node = make(sub, tensor)
            node.shape = shape or node.shape
            made[key] = link(node, [n for n in map(visit, ins) if n is not None])
            return made[key]
        op = tensor.op
        if op.type == "Identity" and op.inputs:
            made[key] = visit(op.inputs[0])
            return made[key]
        if shape is None or len(shape) != 4:
            return None
        inputs = [n for n in (visit(t) for t in op.inputs if _shape(t) is not None and len(_shape(t) or ()) == 4) if n]
        if not inputs:
            return None
        kind = _TF_KINDS.get(op.type, "activation" if op.type in _TF_ACTIVATIONS else "other")
        node = Node(kind, f"{layer.name}/{op.name}", op.type, shape, {})
        if kind == "activation":
            node.attrs["activation"] = _TF_ACTIVATIONS[op.type]
        if kind == "crop":
            source = inputs[0]
            if source.spatial is None or node.spatial is None or node.spatial == source.spatial:
                node.kind = "other"
            else:
                dh, dw = source.spatial[0] - node.spatial[0], source.spatial[1] - node.spatial[1]
                node.attrs.update(cropping=((dh // 2, dh - dh // 2), (dw // 2, dw - dw // 2)), inferred=True)
        made[key] = link(node, inputs)
        return made[key]

    result = visit(output)
    if result is None or result in parents:
        return None
    return order, result

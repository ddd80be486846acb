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

This is the only module that reads Keras's private attributes
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
_ACTIVATION_OPS = {
    "Relu": "relu",
    "Relu6": "relu6",
    "Elu": "elu",
    "Selu": "selu",
    "Gelu": "gelu",
    "Silu": "silu",
    "Swish": "silu",
    "Sigmoid": "sigmoid",
    "HardSigmoid": "hard_sigmoid",
    "HardSwish": "hard_swish",
    "Softmax": "softmax",
    "LeakyRelu": "leaky_relu",
    "Tanh": "tanh",
    "Mish": "mish",
    "Softplus": "softplus",
}
_ACTIVATION_NAMES = re.compile(r"relu|gelu|elu|silu|swish|mish|sigmoid|tanh|softplus|softmax|prelu|hardswish", re.I)
_TRAINING = re.compile(r"\bif\s+(not\s+)?(self\.)?training\b|\btraining\s+(and|or)\b|\bif\s+training\s*(is|==)")


def _pair(value: Any, default: int = 1) -> tuple[int, int]:
    if isinstance(value, (list, tuple)) and value:
        first = int(value[0]) if value[0] is not None else default
        second = int(value[1]) if len(value) > 1 and value[1] is not None else first
        return first, second
    if isinstance(value, (int, float)):
        return int(value), int(value)
    return default, default


def _config(layer: Any) -> dict[str, Any]:
    try:
        config = layer.get_config()
    except Exception:
        return {}
    return config if isinstance(config, dict) else {}


def _activation_name(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("config", {}).get("name") or value.get("class_name")
    if callable(value):
        value = getattr(value, "__name__", None)
    return None if value in (None, "linear") else str(value)


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
        fan = "(fan_in+fan_out)" if mode == "fan_avg" else mode
        shown = 2 * scale if mode == "fan_avg" else scale
        if dist == "uniform":
            text = f"{known}: uniform, variance {shown:g}/{fan}"
        else:
            text = f"{known}: Gaussian, std sqrt({shown:g}/{fan})" + (
                ", truncated at 2 std" if dist in ("truncated_normal", "normal") else ""
            )
        if scale == 2.0 and mode == "fan_in" and dist != "uniform":
            return text, "paper" if dist == "untruncated_normal" else "paper-truncated"
        return text, "other"
    return name or "unknown", "other"


def _attrs(kind: str, type_name: str, layer: Any) -> dict[str, Any]:
    """The neutral attributes of a Keras layer or operation."""
    config = _config(layer)
    attrs: dict[str, Any] = {}
    if kind in ("conv", "conv_transpose"):
        attrs["kernel"] = _pair(config.get("kernel_size"))
        attrs["strides"] = _pair(config.get("strides"))
        attrs["padding"] = str(config.get("padding", "valid"))
        attrs["filters"] = config.get("filters")
        attrs["use_bias"] = config.get("use_bias", True) is not False
        attrs["conv_type"] = {"SeparableConv2D": "separable", "DepthwiseConv2D": "depthwise"}.get(type_name, "conv")
        attrs["init"] = describe_initialiser(layer)
    elif kind == "pool":
        size = config.get("pool_size", getattr(layer, "pool_size", None))
        strides = config.get("strides", getattr(layer, "strides", None))
        attrs["kernel"] = _pair(size, 2)
        attrs["strides"] = _pair(strides if strides is not None else size, 2)
        attrs["pool"] = "max" if "Max" in type_name else "avg"
    elif kind == "upsample":
        attrs["factor"] = _pair(config.get("size"), 2)
        attrs["interpolation"] = str(config.get("interpolation", "nearest"))
    elif kind == "resize":
        attrs["interpolation"] = str(config.get("interpolation", getattr(layer, "interpolation", "bilinear")))
    elif kind == "crop" and type_name == "Cropping2D":
        attrs["cropping"] = tuple(tuple(int(v) for v in side) for side in config.get("cropping", ((0, 0), (0, 0))))
    elif kind == "pad" and type_name == "ZeroPadding2D":
        attrs["pads"] = tuple(tuple(int(v) for v in side) for side in config.get("padding", ((0, 0), (0, 0))))
    elif kind == "dropout":
        rate = config.get("rate", config.get("stddev"))
        if rate is not None:
            attrs["rate"] = float(rate)
    if kind == "activation":
        attrs["activation"] = _layer_activation(type_name, config)
    elif kind in ("conv", "conv_transpose", "dense"):
        attrs["activation"] = _activation_name(config.get("activation"))
    return attrs


def _layer_activation(type_name: str, config: dict[str, Any]) -> str | None:
    if type_name in _ACTIVATION_OPS:
        return _ACTIVATION_OPS[type_name]
    if type_name == "ReLU":
        if config.get("max_value") is not None:
            return f"relu (capped at {config['max_value']:g})"
        return "leaky_relu" if config.get("negative_slope") else "relu"
    named = {"LeakyReLU": "leaky_relu", "PReLU": "prelu", "ELU": "elu", "Softmax": "softmax"}
    if type_name in named:
        return named[type_name]
    return _activation_name(config.get("activation")) or type_name.lower()


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
        root = made[id(found[1])] = make(found[0], tensor)
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
            parent = made[key] = make(parent_found[0], inputs[i])
            current.parents.append(parent)
            parent.children.append(current)
            stack.append((parent, list(parent_found[1].input_tensors), 0))
    for node in order:
        if node.kind == "other":
            _opaque(node)
    return _insert_crops(order)


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
        # Deep supervision gives several outputs; the segmentation is the largest.
        return max(images, key=lambda t: int(t.shape[1]) * int(t.shape[2])), None
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
    # The image is the input the encoder reads: the largest map (a conditioning input is 1x1 or a vector).
    image = max(inputs, key=lambda n: (n.spatial[0] * n.spatial[1] if n.spatial else 0, -nodes.index(n)))
    return Graph(
        str(model.name),
        nodes,
        image,
        output,
        size,
        output.channels,
        sum(n.params for n in nodes),
        training_only=training_only,
        flattened=flat is not None,
    )


def _trace_once(model: Any, keras: Any, struct: Any, side: tuple[int, int], in_channels: int | None) -> Any:
    training_only: list[str] = []
    if struct is None:
        inputs: Any = keras.Input(batch_shape=(None, side[0], side[1], in_channels or 1))
    else:
        inputs = keras.tree.map_structure(
            lambda t: keras.Input(batch_shape=_filled(tuple(t.shape), side, in_channels), dtype=t.dtype), struct
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
        raise AuditError(f"{model.name!r} has no image input (no input of shape height x width x channels)")
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

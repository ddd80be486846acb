"""The Keras front end's reading of one layer: its neutral attributes (kernel, strides, padding, initialiser...).

Keras's own config keys and initialiser classes are read here and nowhere
else; the result is the plain attribute dict of :mod:`.graph`.
"""

from __future__ import annotations

import math
from typing import Any

from unet_explain.model.audit.graph import pair as _pair

ACTIVATION_OPS = {
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

"""Keras operations (``keras.ops.relu``...) that are activations, and their names."""


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
            kh, kw, a, b = (int(d) for d in kernel.shape)
            fans = {kh * kw * a}
            if "Transpose" in type(layer).__name__:
                # Kernel (kh, kw, out, in): an output pixel of a stride-s up-conv reads (k/s)^2 taps per input channel.
                sh, sw = _pair(getattr(layer, "strides", 1))
                fans = {kh * kw * b, max(kh * kw * b // (sh * sw), b)}
            if any(math.isclose(std, math.sqrt(2 / fan), rel_tol=0.01) for fan in fans):
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


def attrs(kind: str, type_name: str, layer: Any) -> dict[str, Any]:
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
    if type_name in ACTIVATION_OPS:
        return ACTIVATION_OPS[type_name]
    if type_name == "ReLU":
        if config.get("max_value") is not None:
            return f"relu (capped at {config['max_value']:g})"
        return "leaky_relu" if config.get("negative_slope") else "relu"
    named = {"LeakyReLU": "leaky_relu", "PReLU": "prelu", "ELU": "elu", "Softmax": "softmax"}
    if type_name in named:
        return named[type_name]
    return _activation_name(config.get("activation")) or type_name.lower()

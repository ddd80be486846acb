"""Cross-check the analytic spec against Keras, layer by layer, with two builders.

* :mod:`unet_explain.model.keras_unet`, the package's model, is built from the
  spec's layer list: it checks that Keras gives every layer the size and the
  parameter count the spec says.
* :mod:`unet_explain.model.reference_unet`, a plain builder written from the
  paper that reads only the configuration, checks that the spec describes the
  right network at all: its filter counts come from the config and its crops
  from the tensors' own shapes, so a wrong width or a wrong crop in the spec
  cannot be copied into it.

The two models are also compared with each other: the same kind of layer, the
same settings and the same inputs under every name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from unet_explain.core import names
from unet_explain.core.spec import build_spec

if TYPE_CHECKING:
    from unet_explain.config import UNetConfig

Shape = tuple[int, ...]

# The settings of a layer that decide what it computes (whichever of them its class has).
_SETTINGS = ("filters", "kernel_size", "strides", "padding", "activation", "use_bias", "pool_size", "cropping", "axis")


@dataclass(frozen=True)
class LayerCheck:
    """One layer's shape and parameters, by the spec, the package's Keras model and the independent one."""

    name: str
    """Layer name shared by spec and models."""
    spec_shape: Shape | None
    """(H, W, C) by the spec ((H, W, D, C) for a volume); ``None`` if the spec has no such layer."""
    keras_shape: Shape | None
    """(H, W, C) by the package's Keras model; ``None`` if it has no such layer."""
    spec_params: int | None
    """Parameters by the spec."""
    keras_params: int | None
    """Parameters by the package's Keras model."""
    reference_shape: Shape | None = None
    """(H, W, C) by the independent model; ``None`` if it has no such layer (or was not built)."""
    reference_params: int | None = None
    """Parameters by the independent model."""
    checked_reference: bool = False
    """Whether the independent model took part."""

    @property
    def ok(self) -> bool:
        """Whether spec and Keras (and the independent model, if built) agree on this layer."""
        ours = self.spec_shape == self.keras_shape and self.spec_params == self.keras_params
        if not self.checked_reference:
            return ours
        return ours and self.spec_shape == self.reference_shape and self.spec_params == self.reference_params


@dataclass(frozen=True)
class VerifyReport:
    """The result of :func:`verify`."""

    config: UNetConfig
    """The configuration checked."""
    layers: tuple[LayerCheck, ...]
    """Every layer, in data-flow order."""
    spec_total: int
    """Total parameters by the spec."""
    keras_total: int
    """Total parameters by Keras (``model.count_params()``)."""
    reference_total: int | None = None
    """Total parameters of the independent model (``None`` if it was not built)."""
    wiring: tuple[str, ...] = ()
    """How the package's model and the independent one differ in kind, settings or inputs of a layer."""

    @property
    def ok(self) -> bool:
        """Whether every layer and the totals agree, and both models are wired alike."""
        totals = self.spec_total == self.keras_total and self.reference_total in (None, self.spec_total)
        return totals and not self.wiring and all(check.ok for check in self.layers)

    @property
    def mismatches(self) -> list[LayerCheck]:
        """Layers that disagree."""
        return [check for check in self.layers if not check.ok]


# Layers the model may carry that change neither shape nor parameters.
_SHAPE_NEUTRAL = {names.INPUT, names.layer(names.BOTTLENECK, "dropout")}


def _shape_neutral(name: str) -> bool:
    """The input, a dropout, or the ReLU after a batch normalisation (``enc1_conv1_relu``)."""
    return name in _SHAPE_NEUTRAL or name.endswith("_relu")


def _shape_and_params(layer: Any) -> tuple[Shape, int]:
    return tuple(int(n) for n in layer.output.shape[1:]), int(layer.count_params())


def _inputs(layer: Any) -> list[str]:
    """Names of the layers feeding ``layer`` ("input" for the model's input), in order."""
    node = layer._inbound_nodes[0]
    found = []
    for tensor in node.input_tensors:
        source = tensor._keras_history.operation
        found.append("input" if type(source).__name__ == "InputLayer" else source.name)
    return found


def _wiring(model: Any, reference: Any) -> list[str]:
    """Every layer whose class, settings or inputs differ between the two models."""
    ref = {layer.name: layer for layer in reference.layers if type(layer).__name__ != "InputLayer"}
    differences = []
    for layer in model.layers:
        other = ref.get(layer.name)
        if other is None:
            continue
        if type(layer) is not type(other):
            differences.append(f"{layer.name}: {type(layer).__name__} here, {type(other).__name__} in the reference")
            continue
        mine, theirs = layer.get_config(), other.get_config()
        for key in _SETTINGS:
            if mine.get(key) != theirs.get(key):
                differences.append(f"{layer.name}: {key} {mine.get(key)!r} here, {theirs.get(key)!r} in the reference")
        if _inputs(layer) != _inputs(other):
            differences.append(f"{layer.name}: inputs {_inputs(layer)} here, {_inputs(other)} in the reference")
    return differences


def compare_model(config: UNetConfig, model: Any, reference: Any = None) -> VerifyReport:
    """Compare the spec of ``config`` with an already built Keras ``model`` (and the independent ``reference``)."""
    spec = build_spec(config)
    keras_layers = {layer.name: layer for layer in model.layers}
    ref_layers = {} if reference is None else {layer.name: layer for layer in reference.layers}
    checks: list[LayerCheck] = []
    for layer in spec.layers:
        k, r = keras_layers.pop(layer.name, None), ref_layers.pop(layer.name, None)
        keras_shape, keras_params = _shape_and_params(k) if k is not None else (None, None)
        ref_shape, ref_params = _shape_and_params(r) if r is not None else (None, None)
        checks.append(
            LayerCheck(
                name=layer.name,
                spec_shape=(*layer.out_size, layer.channels),
                keras_shape=keras_shape,
                spec_params=layer.params,
                keras_params=keras_params,
                reference_shape=ref_shape,
                reference_params=ref_params,
                checked_reference=reference is not None,
            )
        )
    for name in keras_layers:
        if not _shape_neutral(name):
            checks.append(LayerCheck(name, None, None, None, int(keras_layers[name].count_params())))
    for name, layer in ref_layers.items():
        if type(layer).__name__ != "InputLayer" and not _shape_neutral(name):
            checks.append(LayerCheck(name, None, None, None, None, *_shape_and_params(layer), checked_reference=True))
    return VerifyReport(
        config=config,
        layers=tuple(checks),
        spec_total=spec.totals.params,
        keras_total=int(model.count_params()),
        reference_total=None if reference is None else int(reference.count_params()),
        wiring=() if reference is None else tuple(_wiring(model, reference)),
    )


def verify(config: UNetConfig) -> VerifyReport:
    """Build the package's Keras model and the independent one for ``config``; compare both with the spec."""
    from unet_explain.core.budget import check_memory
    from unet_explain.model.keras_unet import build_model
    from unet_explain.model.reference_unet import build_reference

    check_memory(config, models=2, what="building the model and the independent one")  # before TensorFlow
    return compare_model(config, build_model(config), build_reference(config))

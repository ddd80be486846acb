"""Cross-check the analytic spec against the real Keras model, layer by layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from unet_explain.core import names
from unet_explain.core.spec import build_spec

if TYPE_CHECKING:
    from unet_explain.config import UNetConfig

Shape = tuple[int, ...]


@dataclass(frozen=True)
class LayerCheck:
    """One layer's shape and parameters, by the spec and by Keras."""

    name: str
    """Layer name shared by spec and model."""
    spec_shape: Shape | None
    """(H, W, C) by the spec ((H, W, D, C) for a volume); ``None`` if the spec has no such layer."""
    keras_shape: Shape | None
    """(H, W, C) by Keras; ``None`` if the model has no such layer."""
    spec_params: int | None
    """Parameters by the spec."""
    keras_params: int | None
    """Parameters by Keras."""

    @property
    def ok(self) -> bool:
        """Whether spec and Keras agree on this layer."""
        return self.spec_shape == self.keras_shape and self.spec_params == self.keras_params


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

    @property
    def ok(self) -> bool:
        """Whether every layer and the total agree."""
        return self.spec_total == self.keras_total and all(check.ok for check in self.layers)

    @property
    def mismatches(self) -> list[LayerCheck]:
        """Layers that disagree."""
        return [check for check in self.layers if not check.ok]


# Layers the model may carry that change neither shape nor parameters.
_SHAPE_NEUTRAL = {names.INPUT, names.layer(names.BOTTLENECK, "dropout")}


def _shape_neutral(name: str) -> bool:
    """The input, a dropout, or the ReLU after a batch normalisation (``enc1_conv1_relu``)."""
    return name in _SHAPE_NEUTRAL or name.endswith("_relu")


def compare_model(config: UNetConfig, model: Any) -> VerifyReport:
    """Compare the spec of ``config`` with an already built Keras ``model``."""
    spec = build_spec(config)
    keras_layers = {layer.name: layer for layer in model.layers}
    checks: list[LayerCheck] = []
    for layer in spec.layers:
        k = keras_layers.pop(layer.name, None)
        keras_shape = keras_params = None
        if k is not None:
            keras_shape = tuple(int(n) for n in k.output.shape[1:])
            keras_params = int(k.count_params())
        checks.append(
            LayerCheck(
                name=layer.name,
                spec_shape=(*layer.out_size, layer.channels),
                keras_shape=keras_shape,
                spec_params=layer.params,
                keras_params=keras_params,
            )
        )
    for name in keras_layers:
        if not _shape_neutral(name):
            checks.append(LayerCheck(name, None, None, None, int(keras_layers[name].count_params())))
    return VerifyReport(
        config=config,
        layers=tuple(checks),
        spec_total=spec.totals.params,
        keras_total=int(model.count_params()),
    )


def verify(config: UNetConfig) -> VerifyReport:
    """Build the Keras model for ``config`` and compare it with the spec."""
    from unet_explain.model.keras_unet import build_model

    return compare_model(config, build_model(config))

"""unet-explain: the original U-Net (Ronneberger, Fischer, Brox 2015) by its numbers and pictures.

The public API. Importing it never imports TensorFlow: :func:`build_model` and
:func:`verify` load it on first call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from unet_explain import _startup  # noqa: F401  (first: the command's Ctrl-C while it loads is one line)
from unet_explain.config import UNetConfig, parse_size
from unet_explain.core.receptive_field import FieldReport
from unet_explain.core.sizes import valid_size_table, valid_sizes
from unet_explain.core.spec import LayerSpec, Stage, Totals, UNetSpec, build_spec
from unet_explain.core.tiling import TilePlan
from unet_explain.errors import ConfigError, MissingToolError, OutputError, UNetExplainError

if TYPE_CHECKING:
    import numpy as np

    from unet_explain.loss_weights import WeightMap
    from unet_explain.model.audit import AuditReport
    from unet_explain.model.verify import VerifyReport

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "FieldReport",
    "LayerSpec",
    "MissingToolError",
    "OutputError",
    "Stage",
    "TilePlan",
    "Totals",
    "UNetConfig",
    "UNetExplainError",
    "UNetSpec",
    "__version__",
    "audit",
    "build_model",
    "build_spec",
    "build_variant",
    "parse_size",
    "plan_tiles",
    "predict_tiled",
    "receptive_field",
    "valid_size_table",
    "valid_sizes",
    "verify",
    "weight_map",
]


def _spec_html(spec: UNetSpec) -> str:
    """Jupyter shows a spec as the per-stage table (registered here, so that the core imports no renderer)."""
    from unet_explain.render.text_formats import to_html

    return to_html(spec)


UNetSpec._repr_html_ = _spec_html  # type: ignore[attr-defined]


def build_model(config: UNetConfig | None = None, *, dropout: bool | float = False, seed: int | None = None) -> Any:
    """Build the paper's U-Net in Keras (imports TensorFlow); see :mod:`unet_explain.model.keras_unet`."""
    from unet_explain.model.keras_unet import build_model as _build

    return _build(config, dropout=dropout, seed=seed)


def verify(config: UNetConfig | None = None) -> VerifyReport:
    """Build the Keras model and compare it with the spec, layer by layer."""
    from unet_explain.model.verify import verify as _verify

    return _verify(config or UNetConfig())


def receptive_field(config: UNetConfig | None = None) -> FieldReport:
    """The exact receptive field of every output pixel (and of each stage), with the textbook number."""
    from unet_explain.core.receptive_field import analyse

    return analyse(build_spec(config or UNetConfig()))


def plan_tiles(image_size: tuple[int, int], config: UNetConfig | None = None) -> TilePlan:
    """The overlap-tile plan for an image of ``image_size`` (height, width) and a network."""
    from unet_explain.core.tiling import plan_tiles as _plan

    return _plan(image_size, build_spec(config or UNetConfig()))


def predict_tiled(model: Any, image: np.ndarray, config: UNetConfig | None = None, batch_size: int = 4) -> np.ndarray:
    """Segment an image of any size tile by tile (mirror padding, stitching); see :mod:`unet_explain.model.tiled`."""
    from unet_explain.model.tiled import predict_tiled as _predict

    return _predict(model, image, config or UNetConfig(), batch_size=batch_size)


def audit(
    model: Any,
    reference: UNetConfig | None = None,
    *,
    unsafe: bool = False,
    input_size: tuple[int, int] | None = None,
) -> AuditReport:
    """Audit a Keras U-Net against the paper; ``model`` is a Keras model, a ``.keras`` path or ``file.py:function``.

    A saved file loads in Keras's safe mode unless ``unsafe`` is true (then a
    ``Lambda`` layer's stored code runs); ``file.py:function`` runs that file.
    ``input_size`` is used where the model leaves its size open.
    """
    import os

    from unet_explain.errors import shown
    from unet_explain.model.audit import AuditError, audit_model, load_model

    if isinstance(model, os.PathLike):  # Path('m.keras') names a file, as 'm.keras' does
        model = os.fspath(model)
    if not isinstance(model, str) and not hasattr(model, "layers"):
        raise AuditError(
            f"model must be a Keras model, a saved model's path (model.keras) or 'file.py:function'; got {shown(model)}"
        )
    loaded = load_model(model, unsafe=unsafe) if isinstance(model, str) else model
    return audit_model(loaded, reference, input_size=input_size)


def build_variant(name: str, config: UNetConfig | None = None, *, seed: int | None = None) -> Any:
    """Build a built-in variant (paper, caffe-release, tutorial-resize, same-padding) as a Keras model."""
    from unet_explain.model.variants import build_variant as _build

    return _build(name, config or UNetConfig(), seed=seed)[0]


def weight_map(
    instance_labels: Any, w0: float = 10.0, sigma: float = 5.0, class_weights: Any = "balanced"
) -> WeightMap:
    """The weight map of the paper's loss for an image of cell ids; see :mod:`unet_explain.loss_weights`."""
    from unet_explain.loss_weights import weight_map as _weight_map

    return _weight_map(instance_labels, w0=w0, sigma=sigma, class_weights=class_weights)

"""unet-explain: the original U-Net (Ronneberger, Fischer, Brox 2015) by its numbers and pictures.

The public API. Importing it never imports TensorFlow: :func:`build_model` and
:func:`verify` load it on first call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from unet_explain.config import UNetConfig, parse_size
from unet_explain.core.receptive_field import FieldReport
from unet_explain.core.sizes import valid_size_table, valid_sizes
from unet_explain.core.spec import LayerSpec, Stage, Totals, UNetSpec, build_spec
from unet_explain.core.tiling import TilePlan
from unet_explain.errors import ConfigError, MissingToolError, OutputError, UNetExplainError

if TYPE_CHECKING:
    import numpy as np

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
    "build_model",
    "build_spec",
    "parse_size",
    "plan_tiles",
    "predict_tiled",
    "receptive_field",
    "valid_size_table",
    "valid_sizes",
    "verify",
]


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

    spec = build_spec(config or UNetConfig())
    return analyse(spec.stages, spec.config.input_size, spec.config.padding)


def plan_tiles(image_size: tuple[int, int], config: UNetConfig | None = None) -> TilePlan:
    """The overlap-tile plan for an image of ``image_size`` (height, width) and a network."""
    from unet_explain.core.tiling import plan_tiles as _plan

    return _plan(image_size, build_spec(config or UNetConfig()))


def predict_tiled(model: Any, image: np.ndarray, config: UNetConfig | None = None, batch_size: int = 4) -> np.ndarray:
    """Segment an image of any size tile by tile (mirror padding, stitching); see :mod:`unet_explain.model.tiled`."""
    from unet_explain.model.tiled import predict_tiled as _predict

    return _predict(model, image, config or UNetConfig(), batch_size=batch_size)

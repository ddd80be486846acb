"""unet-explain: the original U-Net (Ronneberger, Fischer, Brox 2015) by its numbers and pictures.

The public API. Importing it never imports TensorFlow: :func:`build_model` and
:func:`verify` load it on first call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from unet_explain.config import UNetConfig, parse_size
from unet_explain.core.sizes import valid_size_table, valid_sizes
from unet_explain.core.spec import LayerSpec, Stage, Totals, UNetSpec, build_spec
from unet_explain.errors import ConfigError, MissingToolError, OutputError, UNetExplainError

if TYPE_CHECKING:
    from unet_explain.model.verify import VerifyReport

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "LayerSpec",
    "MissingToolError",
    "OutputError",
    "Stage",
    "Totals",
    "UNetConfig",
    "UNetExplainError",
    "UNetSpec",
    "__version__",
    "build_model",
    "build_spec",
    "parse_size",
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

"""Tiled inference with the overlap-tile strategy, in numpy (paper section 2, Figure 2).

The model is any Keras model (or callable) taking a batch of input tiles; this
module itself imports no TensorFlow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from unet_explain.core.spec import build_spec
from unet_explain.core.tiling import TilePlan, plan_tiles
from unet_explain.errors import ConfigError

if TYPE_CHECKING:
    from unet_explain.config import UNetConfig


def mirror_pad(image: np.ndarray, plan: TilePlan) -> np.ndarray:
    """Extend ``image`` (H, W, C) by mirroring, without repeating the edge pixel, as the paper's code does.

    ``[1, 2, 3]`` padded by 2 on both sides gives ``[3, 2, 1, 2, 3, 2, 1]`` (numpy's "reflect").
    """
    pad = ((plan.pad_before[0], plan.pad_after[0]), (plan.pad_before[1], plan.pad_after[1]), (0, 0))
    return np.pad(image, pad, mode="reflect")


def predict_tiled(model: Any, image: np.ndarray, config: UNetConfig, batch_size: int = 4) -> np.ndarray:
    """Segment an image of any size tile by tile; return an (H, W, classes) map of the image's size.

    ``image`` is (H, W) or (H, W, C) with C = ``config.in_channels``.
    """
    array = np.asarray(image, dtype=np.float32)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] != config.in_channels:
        raise ConfigError(
            "image",
            f"must be (H, W) or (H, W, {config.in_channels}) for in_channels={config.in_channels}; "
            f"got shape {tuple(np.shape(image))}",
        )
    if batch_size < 1:
        raise ConfigError("batch_size", f"must be at least 1; got {batch_size}")
    spec = build_spec(config)
    plan = plan_tiles((int(array.shape[0]), int(array.shape[1])), spec)
    padded = mirror_pad(array, plan)
    (n_h, n_w), (m_h, m_w) = plan.input_tile, plan.output_tile
    origins = plan.input_origins()
    out = np.zeros((*plan.computed_size, config.num_classes), dtype=np.float32)
    for start in range(0, len(origins), batch_size):
        batch_origins = origins[start : start + batch_size]
        batch = np.stack([padded[y : y + n_h, x : x + n_w] for y, x in batch_origins])
        result = np.asarray(model.predict(batch, verbose=0) if hasattr(model, "predict") else model(batch))
        for (y, x), tile in zip(batch_origins, result, strict=True):
            out[y : y + m_h, x : x + m_w] = tile  # origins in the padded image = output offsets
    return out[: array.shape[0], : array.shape[1]]

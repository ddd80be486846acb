"""The paper's weighted pixel-wise cross-entropy (section 3), usable in Keras.

The paper's equation 1 is the energy

    E = sum over pixels x of  w(x) * log p_l(x)(x)

with no minus sign: training maximises it. ``p_l(x)(x)`` is the softmax
probability the network gives the true class of pixel x, and ``w`` the weight
map of :mod:`unet_explain.loss_weights` (equation 2). The loss here is the
negative, -E, the weighted cross-entropy that Keras minimises, averaged over the
pixels instead of summed, so it does not grow with the tile.

Two ways to train with it:

* ``model.compile(loss=weighted_cross_entropy_loss())`` and targets packed by
  :func:`pack_targets` (class index and weight as two channels);
* or Keras's own ``SparseCategoricalCrossentropy`` with the weight map passed
  as per-pixel ``sample_weight`` to ``fit``: the same sum.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from unet_explain.model.keras_unet import load_keras

EPSILON = 1e-7


def weighted_cross_entropy(labels: Any, probabilities: Any, weights: Any) -> Any:
    """Mean over pixels of ``-w(x) * log p_true(x)``; labels (B, H, W) ints, probabilities (B, H, W, K)."""
    ops = load_keras().ops
    labels = ops.cast(labels, "int32")
    p_true = ops.take_along_axis(probabilities, ops.expand_dims(labels, -1), axis=-1)[..., 0]
    p_true = ops.clip(p_true, EPSILON, 1.0)
    return ops.mean(ops.cast(weights, p_true.dtype) * -ops.log(p_true))


def pack_targets(labels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Stack class indices and weights into one (B, H, W, 2) target for :func:`weighted_cross_entropy_loss`."""
    return np.stack([np.asarray(labels, dtype=np.float32), np.asarray(weights, dtype=np.float32)], axis=-1)


def weighted_cross_entropy_loss() -> Any:
    """A Keras loss: ``y_true`` packs (class index, weight) per pixel, ``y_pred`` is the softmax output."""
    keras = load_keras()

    class WeightedCrossEntropy(keras.losses.Loss):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__(name="weighted_cross_entropy")

        def call(self, y_true: Any, y_pred: Any) -> Any:
            return weighted_cross_entropy(y_true[..., 0], y_pred, y_true[..., 1])

    return WeightedCrossEntropy()

"""The weight map of the paper's loss (section 3, equation 2), and a synthetic image to show it on.

    w(x) = w_c(x) + w0 * exp( -(d1(x) + d2(x))^2 / (2 * sigma^2) )

``w_c`` balances the class frequencies; ``d1`` and ``d2`` are the distances
from pixel x to the border of the nearest and of the second-nearest cell. The
second term is large only in the thin strips of background between two cells
that almost touch, which is what teaches the network to keep touching cells
apart.

Two choices the paper leaves open, made here and said openly:

* ``w_c``: the paper does not say how it is computed. ``"balanced"`` (the
  default) weights each class by ``pixels / (2 * pixels of that class)``, so
  both classes carry the same total weight; a mapping ``{0: w_background,
  1: w_cell}`` sets it by hand, and ``None`` gives 1 everywhere.
* the border term is applied to background pixels only, as the paper's
  Figure 3d shows it and the authors' released weight maps do; inside a cell
  the distance to its own border is zero, and the term would light up every
  cell near another one.

Distances come from ``scipy.ndimage.distance_transform_edt``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from unet_explain.errors import ConfigError

PAPER_W0 = 10.0
PAPER_SIGMA = 5.0


@dataclass(frozen=True)
class WeightMap:
    """The two terms of the weight map and their sum, each an (H, W) float array."""

    class_term: np.ndarray
    """``w_c(x)``: class balance."""
    border_term: np.ndarray
    """``w0 * exp(-(d1 + d2)^2 / (2 sigma^2))`` on background pixels, 0 on cells."""
    d1: np.ndarray
    """Distance to the nearest cell (0 on cells)."""
    d2: np.ndarray
    """Distance to the second-nearest cell (inf where there is no second cell)."""

    @property
    def total(self) -> np.ndarray:
        """``w(x)``, the weight of every pixel in the loss."""
        return np.asarray(self.class_term + self.border_term)


def _check_labels(instance_labels: Any) -> np.ndarray:
    labels = np.asarray(instance_labels)
    if labels.ndim != 2 or labels.size == 0:
        raise ConfigError("labels", f"must be a non-empty 2-D image of cell ids; got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        if not np.issubdtype(labels.dtype, np.floating) or not np.all(np.mod(labels, 1) == 0):
            raise ConfigError("labels", f"must hold whole numbers (0 = background, k = cell k); got {labels.dtype}")
        labels = labels.astype(np.int64)
    if labels.min() < 0:
        raise ConfigError("labels", f"must not be negative (0 = background); got {labels.min()}")
    if not labels.any():
        raise ConfigError("labels", "has no cells: every pixel is 0 (background)")
    return labels


def class_balance(labels: np.ndarray, class_weights: str | Mapping[int, float] | None = "balanced") -> np.ndarray:
    """``w_c(x)`` for background (0) and cell (non-zero) pixels."""
    cell = labels > 0
    if class_weights is None:
        return np.ones(labels.shape)
    if isinstance(class_weights, str):
        if class_weights != "balanced":
            raise ConfigError("class_weights", f"must be 'balanced', None or {{0: w, 1: w}}; got {class_weights!r}")
        n = labels.size
        counts = {0: int((~cell).sum()), 1: int(cell.sum())}
        weights = {c: (n / (2 * k) if k else 0.0) for c, k in counts.items()}
    else:
        weights = {0: float(class_weights[0]), 1: float(class_weights[1])}
    return np.asarray(np.where(cell, weights[1], weights[0]), dtype=np.float64)


def weight_map(
    instance_labels: Any,
    w0: float = PAPER_W0,
    sigma: float = PAPER_SIGMA,
    class_weights: str | Mapping[int, float] | None = "balanced",
) -> WeightMap:
    """The paper's weight map for an image of cell ids (0 = background, 1..n = cells)."""
    from scipy import ndimage

    labels = _check_labels(instance_labels)
    if not w0 >= 0:
        raise ConfigError("w0", f"must be at least 0; got {w0}")
    if not sigma > 0:
        raise ConfigError("sigma", f"must be greater than 0; got {sigma}")
    cells = [int(k) for k in np.unique(labels) if k != 0]
    # Distance from every pixel to the nearest pixel of each cell: (cells, H, W).
    distances = np.stack([ndimage.distance_transform_edt(labels != k) for k in cells])
    distances.sort(axis=0)
    d1 = distances[0]
    d2 = distances[1] if len(cells) > 1 else np.full(labels.shape, np.inf)
    border = w0 * np.exp(-((d1 + d2) ** 2) / (2 * sigma**2))
    border = np.where(labels == 0, border, 0.0)
    return WeightMap(class_term=class_balance(labels, class_weights), border_term=border, d1=d1, d2=d2)


def touching_cells(size: int = 192, seed: int = 7) -> np.ndarray:
    """A synthetic image of round cells, several touching with one-pixel gaps between them (no downloads).

    Each pixel goes to the cell whose disc it lies deepest in; a pixel of one
    cell with a 4-neighbour of another cell becomes background, which leaves a
    one-pixel gap wherever two cells meet, as in the paper's Figure 3.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    # Clusters of overlapping discs, so that cells touch; plus a few loners.
    centres, radii = [], []
    for cy, cx in rng.uniform(0.25 * size, 0.75 * size, size=(3, 2)):
        for _ in range(3):
            angle = rng.uniform(0, 2 * np.pi)
            r = rng.uniform(0.08, 0.12) * size
            centres.append((cy + 0.7 * r * np.sin(angle) * 1.6, cx + 0.7 * r * np.cos(angle) * 1.6))
            radii.append(r)
    for cy, cx in rng.uniform(0.1 * size, 0.9 * size, size=(3, 2)):
        centres.append((cy, cx))
        radii.append(rng.uniform(0.05, 0.08) * size)
    depth = np.stack([r - np.hypot(yy - cy, xx - cx) for (cy, cx), r in zip(centres, radii, strict=True)])
    labels = np.where(depth.max(axis=0) > 0, depth.argmax(axis=0) + 1, 0)
    touching = np.zeros_like(labels, dtype=bool)
    for dy, dx in ((0, 1), (1, 0)):
        a, b = labels[: size - dy, : size - dx], labels[dy:, dx:]
        seam = (a > 0) & (b > 0) & (a != b)
        touching[: size - dy, : size - dx] |= seam & (a > b)
        touching[dy:, dx:] |= seam & (b > a)
    labels[touching] = 0
    # Renumber the cells 1..n in order of appearance.
    ids = [k for k in np.unique(labels) if k]
    return np.searchsorted([0, *ids], labels).astype(np.int32)

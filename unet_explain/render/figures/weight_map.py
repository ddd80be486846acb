"""A picture of the paper's weight map (Figure 3d): labels, class balance, border term and their sum."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from unet_explain.loss_weights import WeightMap
from unet_explain.render.output import atomic_write, format_from_path

FIGURE_FORMATS = ("png", "svg", "pdf")


def weight_map_figure(labels: np.ndarray, weights: WeightMap, w0: float, sigma: float) -> Any:
    """Four panels (2x2) with colour bars: the cells, w_c, the border term, and w = w_c + border term.

    Drawn 7.2 inches wide, the width of a page column: at 100 dpi its smallest text (11 pt) stays above
    9 px on screen where the site shows it.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.colors import ListedColormap

    fig, grid = plt.subplots(2, 2, figsize=(7.2, 7.0), dpi=100, layout="constrained")
    axes = grid.ravel()
    rng = np.random.default_rng(0)
    # Colour by rank, not by id: ids may be as large as 10**12, the number of cells is what counts.
    ids, ranks = np.unique(labels, return_inverse=True)
    ranks = ranks.reshape(labels.shape) + (1 if ids[0] != 0 else 0)
    colours = np.vstack([[0.08, 0.08, 0.1], rng.uniform(0.35, 1.0, size=(int(ranks.max()), 3))])
    panels = [
        ("cells (one colour each)", ranks, ListedColormap(colours), None),
        ("class balance $w_c$", weights.class_term, "viridis", "weight"),
        (rf"border term, $w_0$={w0:g}, $\sigma$={sigma:g}", weights.border_term, "inferno", "weight"),
        ("weight map $w = w_c$ + border term", weights.total, "jet", "weight"),
    ]
    for ax, (title, data, cmap, bar) in zip(axes, panels, strict=True):
        image = ax.imshow(data, cmap=cmap, interpolation="nearest")
        ax.set_title(title, fontsize=12)
        ax.set_xticks([])
        ax.set_yticks([])
        if bar:
            fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03).ax.tick_params(labelsize=11)
    fig.suptitle("The weight map of the loss (equation 2):\ntouching cells get a high-weight gap", fontsize=13)
    return fig


def save_weight_map_figure(
    labels: np.ndarray, weights: WeightMap, w0: float, sigma: float, path: str | Path, fmt: str | None = None
) -> Path:
    """Write the picture atomically; the format comes from ``fmt`` or the suffix."""
    from matplotlib import pyplot as plt

    path = Path(path)
    fmt = format_from_path(path, fmt, FIGURE_FORMATS)
    fig = weight_map_figure(labels, weights, w0, sigma)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt)
    plt.close(fig)
    return atomic_write(path, buffer.getvalue())

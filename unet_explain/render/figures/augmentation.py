"""The paper's elastic deformation (section 3.1): the 3x3 grid of random moves, an image before and after."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from unet_explain.augmentation import PAPER_GRID, PAPER_STD, random_deformation
from unet_explain.loss_weights import touching_cells
from unet_explain.render.figures import drawing as d

if TYPE_CHECKING:
    from unet_explain.core.spec import UNetSpec

TITLE = "Elastic deformation: random moves on a 3x3 grid, interpolated bicubically, bend an image smoothly"
"""One line naming the idea the figure teaches."""

ARROW_SCALE = 3
"""The arrows are drawn this many times their length, so 10 px moves show on a 192 px image."""
FIGURE_SEED = 4
"""The deformation drawn on the site (any seed shows the idea; this one bends the cells visibly)."""


def cells_image(size: int, seed: int = 7) -> np.ndarray:
    """A grey-value image of the synthetic cells: bright bodies, darker rims, a faint texture (no downloads)."""
    from scipy import ndimage

    labels = touching_cells(size, seed)
    inside = ndimage.distance_transform_edt(labels > 0)
    image = np.where(labels > 0, 0.35 + 0.55 * np.minimum(inside / 6.0, 1.0), 0.12)
    texture = np.random.default_rng(seed).normal(0.0, 0.04, labels.shape)
    smooth: np.ndarray = ndimage.gaussian_filter(image + texture, 0.8)
    return np.asarray(np.clip(smooth, 0.0, 1.0))


def alt(spec: UNetSpec) -> str:
    """The figure in words (it does not depend on the network)."""
    return (
        f"A regular mesh bent by {PAPER_GRID}x{PAPER_GRID} random moves with a standard deviation of "
        f"{PAPER_STD:g} pixels, and an image of touching cells before and after the same deformation"
    )


def draw(spec: UNetSpec, theme: str) -> Any:
    """The three panels, at the site's column width."""
    return augmentation_figure()


def augmentation_figure(size: int = 192, seed: int = FIGURE_SEED) -> Any:
    """Three panels: the displacement grid over the warped mesh, the image, the deformed image."""
    from matplotlib.figure import Figure

    image = cells_image(size)
    deform = random_deformation(image.shape, seed=seed)
    after = deform.apply(image)
    fig = Figure(figsize=(d.WIDTH_IN, 2.9), dpi=100, layout="constrained")
    axes = fig.subplots(1, 3)
    grid_ax, before_ax, after_ax = axes

    # A regular mesh, deformed by the same field: what the deformation does to straight lines.
    mesh = np.zeros(image.shape)
    step = size // 12
    mesh[step // 2 :: step, :] = 1.0
    mesh[:, step // 2 :: step] = 1.0
    grid_ax.imshow(deform.apply(mesh, order=1), cmap="Greys", vmin=0, vmax=1.6, interpolation="bilinear")
    # Output pixel p reads the input at p + d, so the content near a grid point moves by about -d.
    points = np.linspace(0, size - 1, PAPER_GRID)
    py, px = np.meshgrid(points, points, indexing="ij")
    grid_ax.quiver(px, py, -deform.grid[1], -deform.grid[0], angles="xy", scale_units="xy", scale=1 / ARROW_SCALE,
                   color="#e8453c", width=0.014)  # fmt: skip
    grid_ax.plot(px, py, "o", color="#e8453c", ms=6)
    reach = ARROW_SCALE * np.abs(deform.grid).max() + 4
    grid_ax.set_xlim(-reach, size - 1 + reach)
    grid_ax.set_ylim(size - 1 + reach, -reach)
    grid_ax.set_title(f"{PAPER_GRID}x{PAPER_GRID} moves, std {PAPER_STD:g} px\n(arrows {ARROW_SCALE}x)", fontsize=11)
    for ax, data, title in ((before_ax, image, "before"), (after_ax, after, "after\n(bicubic)")):
        ax.imshow(data, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(title, fontsize=11)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_aspect("equal")
    return fig

"""The paper's elastic deformation (section 3.1): the augmentation it calls the key to training on few images.

    "we generate smooth deformations using random displacement vectors on a
    coarse 3 by 3 grid. The displacements are sampled from a Gaussian
    distribution with 10 pixels standard deviation. Per-pixel displacements are
    then computed using bicubic interpolation."

The paper gives no code; what it leaves open is chosen here and said openly:

* the 3x3 grid spans the whole image, corner to corner (its points sit on the
  image's corners, edge midpoints and centre), as the ``elasticdeform`` package
  places its grid;
* "bicubic interpolation" of the 3x3 displacements is a cubic spline through
  them (``scipy.ndimage.map_coordinates`` with ``order=3``), evaluated at every
  pixel;
* the image is resampled at the displaced positions with the same cubic
  spline, mirrored at its border (``mode="mirror"``); a label image is
  resampled with ``order=0`` so its ids stay ids.

NumPy and SciPy only, no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PAPER_GRID = 3
"""Points of the coarse displacement grid per axis."""
PAPER_STD = 10.0
"""Standard deviation of each displacement, in pixels."""


@dataclass(frozen=True)
class ElasticDeformation:
    """One random deformation: the coarse displacements and the per-pixel field they give."""

    grid: np.ndarray
    """(2, points, points): the random displacement (dy, dx) at each grid point, in pixels."""
    field: np.ndarray
    """(2, H, W): the displacement of every pixel, a cubic spline through ``grid``."""

    def apply(self, image: np.ndarray, order: int = 3) -> np.ndarray:
        """``image`` resampled at the displaced positions: output[y, x] = image[y + dy, x + dx].

        ``order=3`` (cubic) for an image, ``order=0`` (nearest) for labels.
        """
        from scipy import ndimage

        h, w = image.shape
        yy, xx = np.mgrid[0:h, 0:w].astype(float)
        coords = np.stack([yy + self.field[0], xx + self.field[1]])
        out: np.ndarray = ndimage.map_coordinates(image, coords, order=order, mode="mirror")
        return out


def random_deformation(
    shape: tuple[int, int], *, points: int = PAPER_GRID, std: float = PAPER_STD, seed: int | None = None
) -> ElasticDeformation:
    """A deformation of an image of ``shape``: Gaussian displacements (``std`` px) on a ``points`` x ``points`` grid."""
    if points < 2:
        raise ValueError(f"points must be at least 2 (a grid spans the image corner to corner); got {points}")
    rng = np.random.default_rng(seed)
    grid = rng.normal(0.0, std, size=(2, points, points))
    return ElasticDeformation(grid=grid, field=displacement_field(grid, shape))


def displacement_field(grid: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The per-pixel displacements: a cubic spline through the grid's vectors, grid corners on image corners."""
    from scipy import ndimage

    h, w = shape
    points_y, points_x = grid.shape[1:]
    # Pixel (y, x) sits at grid coordinate y * (points - 1) / (h - 1): the image's corners are grid points.
    gy = np.linspace(0, points_y - 1, h)
    gx = np.linspace(0, points_x - 1, w)
    coords = np.stack(np.meshgrid(gy, gx, indexing="ij"))
    return np.stack([ndimage.map_coordinates(g, coords, order=3, mode="mirror") for g in grid])

"""The paper's elastic deformation (section 3.1): a 3x3 grid of 10 px Gaussian displacements, bicubic per pixel."""

from __future__ import annotations

import numpy as np
import pytest

from unet_explain.augmentation import PAPER_GRID, PAPER_STD, ElasticDeformation, random_deformation
from unet_explain.loss_weights import touching_cells


def test_the_field_passes_through_the_grid_vectors_at_the_grid_points():
    deform = random_deformation((65, 33), seed=3)
    assert deform.grid.shape == (2, PAPER_GRID, PAPER_GRID) and deform.field.shape == (2, 65, 33)
    # The grid's points sit on the corners, edge midpoints and centre of the image.
    for i, y in enumerate((0, 32, 64)):
        for j, x in enumerate((0, 16, 32)):
            np.testing.assert_allclose(deform.field[:, y, x], deform.grid[:, i, j], atol=1e-9)


def test_displacements_have_the_papers_spread():
    grids = np.concatenate([random_deformation((9, 9), seed=s).grid.ravel() for s in range(400)])
    assert abs(grids.mean()) < 0.5 and abs(grids.std() - PAPER_STD) < 0.5  # 7,200 draws of N(0, 10)


def test_the_field_is_smooth_and_cubic_between_the_points():
    deform = random_deformation((101, 101), seed=0)
    # Neighbouring pixels move almost alike: a smooth deformation, not noise.
    assert np.abs(np.diff(deform.field, axis=1)).max() < 2.0
    # Along a row through grid points, the field is a cubic spline, not a straight line between them.
    row = deform.field[1, 0, :]
    linear = np.interp(np.arange(101), [0, 50, 100], deform.grid[1, 0, :])
    assert np.abs(row - linear).max() > 1e-3


def test_a_zero_field_is_the_identity_and_labels_stay_labels():
    labels = touching_cells(64)
    still = ElasticDeformation(grid=np.zeros((2, 3, 3)), field=np.zeros((2, 64, 64)))
    np.testing.assert_array_equal(still.apply(labels, order=0), labels)
    moved = random_deformation(labels.shape, seed=1).apply(labels, order=0)
    assert set(np.unique(moved)) <= set(np.unique(labels)) and not np.array_equal(moved, labels)


def test_a_shift_moves_the_image():
    image = np.zeros((40, 40))
    image[10:20, 10:20] = 1.0
    shift = ElasticDeformation(grid=np.zeros((2, 3, 3)), field=np.stack([np.full((40, 40), 5.0), np.zeros((40, 40))]))
    out = shift.apply(image, order=0)  # output[y] = image[y + 5]
    np.testing.assert_array_equal(out[5:15, 10:20], 1.0)


def test_a_grid_needs_two_points():
    with pytest.raises(ValueError, match="at least 2"):
        random_deformation((10, 10), points=1)

"""The weight map of the loss (paper equation 2) and the weighted cross-entropy."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from unet_explain import ConfigError
from unet_explain.cli import main
from unet_explain.loss_weights import CUTOFF, touching_cells, weight_map


def stripes() -> np.ndarray:
    """Cell 1 in columns 0-9, a one-pixel gap at column 10, cell 2 in 11-20, background 21-30."""
    labels = np.zeros((5, 31), dtype=int)
    labels[:, :10] = 1
    labels[:, 11:21] = 2
    return labels


def test_border_term_by_hand():
    w = weight_map(stripes(), w0=10, sigma=5)
    # Gap pixel: one pixel from each cell, d1 = d2 = 1.
    assert w.border_term[2, 10] == pytest.approx(10 * math.exp(-((1 + 1) ** 2) / (2 * 5**2)))
    # Column 25: 5 pixels from cell 2 (column 20), 16 from cell 1 (column 9).
    assert w.border_term[2, 25] == pytest.approx(10 * math.exp(-((5 + 16) ** 2) / (2 * 5**2)))
    assert np.all(w.border_term[:, :10] == 0) and np.all(w.border_term[:, 11:21] == 0)  # none on cells
    assert w.border_term.argmax() % 31 == 10  # the peak is on the gap


def test_border_term_decays_as_the_formula_says():
    """Against distances found by brute force over every cell pixel, not by the distance transform."""
    labels = touching_cells(size=64, seed=3)
    w = weight_map(labels, w0=10, sigma=5)
    ys, xs = np.nonzero(labels == 0)
    rng = np.random.default_rng(0)
    for i in rng.choice(len(ys), 40, replace=False):
        y, x = ys[i], xs[i]
        nearest = sorted(
            np.min(np.hypot(*(np.nonzero(labels == k) - np.array([[y], [x]])))) for k in range(1, labels.max() + 1)
        )
        expected = 10 * math.exp(-((nearest[0] + nearest[1]) ** 2) / 50)
        assert w.border_term[y, x] == pytest.approx(expected)


def test_demo_peaks_on_one_pixel_gaps():
    labels = touching_cells()
    w = weight_map(labels)
    peak = np.unravel_index(w.border_term.argmax(), labels.shape)
    assert labels[peak] == 0 and w.d1[peak] == 1 and w.d2[peak] == 1
    assert w.border_term.max() == pytest.approx(10 * math.exp(-4 / 50))
    # Far from any two cells the term vanishes.
    assert np.median(w.border_term[labels == 0]) < 0.1


def test_balanced_class_weights():
    labels = stripes()
    w = weight_map(labels)
    cell = labels > 0
    assert w.class_term[cell].sum() == pytest.approx(w.class_term[~cell].sum())
    assert np.all(weight_map(labels, class_weights=None).class_term == 1)
    assert np.all(weight_map(labels, class_weights={0: 0.5, 1: 3}).class_term[cell] == 3)


@pytest.mark.parametrize(
    ("labels", "fragment"),
    [
        (np.zeros((4, 4), int), "has no cells"),
        (np.zeros((0, 4), int), "non-empty 2-D image"),
        (np.ones((2, 2, 2), int), "non-empty 2-D image"),
        (np.full((3, 3), -1), "must not be negative"),
        (np.full((3, 3), 0.5), "whole numbers"),
    ],
)
def test_bad_labels(labels, fragment):
    with pytest.raises(ConfigError, match=fragment):
        weight_map(labels)


def test_cli_demo_draws(tmp_path, capsys):
    target = tmp_path / "weight_map.png"
    assert main(["weight-map", "--demo", "-o", str(target)]) == 0
    out = capsys.readouterr().out
    assert "d1 = 1.0, d2 = 1.0" in out
    image = Image.open(io.BytesIO(target.read_bytes())).convert("RGB")
    assert image.size == (720, 700) and len(image.getcolors(1 << 20)) > 100  # 2x2 panels, a column wide


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        ([], "give --demo"),
        (["--demo", "--sigma", "0"], "--sigma must be a finite number greater than 0"),
        (["--labels", "missing.npy"], "is not a readable .npy array"),
    ],
)
def test_cli_bad_input(capsys, argv, fragment):
    assert main(["weight-map", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and fragment in err and err.count("\n") == 1


def test_cli_empty_label_file(tmp_path, capsys):
    path = tmp_path / "empty.npy"
    np.save(path, np.zeros((8, 8), dtype=int))
    assert main(["weight-map", "--labels", str(path)]) == 2
    assert "has no cells" in capsys.readouterr().err


@pytest.mark.keras
def test_weighted_cross_entropy_by_hand():
    from unet_explain.model.loss import pack_targets, weighted_cross_entropy, weighted_cross_entropy_loss

    probs = np.array([[[[0.8, 0.2], [0.3, 0.7]]]], dtype=np.float32)  # (1, 1, 2, 2)
    labels = np.array([[[0, 1]]])
    weights = np.array([[[1.0, 10.0]]], dtype=np.float32)
    expected = (-math.log(0.8) - 10 * math.log(0.7)) / 2
    assert float(weighted_cross_entropy(labels, probs, weights)) == pytest.approx(expected, rel=1e-6)
    loss = weighted_cross_entropy_loss()
    assert float(loss(pack_targets(labels, weights), probs)) == pytest.approx(expected, rel=1e-6)


@pytest.mark.keras
def test_same_as_keras_sample_weights():
    import keras

    from unet_explain.model.loss import weighted_cross_entropy

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 6, 5, 3)).astype(np.float32)
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    labels = rng.integers(0, 3, size=(2, 6, 5))
    weights = rng.uniform(0.5, 10, size=(2, 6, 5)).astype(np.float32)
    ours = float(weighted_cross_entropy(labels, probs, weights))
    theirs = float(keras.losses.SparseCategoricalCrossentropy()(labels, probs, sample_weight=weights))
    assert ours == pytest.approx(theirs, rel=1e-5)


def direct_distances(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The direct method the module replaced: one full distance image per cell, sorted (memory cells x H x W)."""
    from scipy import ndimage

    cells = [k for k in np.unique(labels) if k]
    stack = np.stack([ndimage.distance_transform_edt(labels != k) for k in cells])
    stack.sort(axis=0)
    return stack[0], (stack[1] if len(cells) > 1 else np.full(labels.shape, np.inf))


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    height=st.integers(1, 60),
    width=st.integers(1, 60),
    density=st.floats(0.002, 0.3),
    cells=st.integers(1, 8),
    sigma=st.floats(0.2, 12),
)
def test_windowed_distances_match_the_direct_method(seed, height, width, density, cells, sigma):
    rng = np.random.default_rng(seed)
    labels = np.where(rng.random((height, width)) < density, rng.integers(1, cells + 1, (height, width)), 0)
    if not labels.any():
        labels[rng.integers(height), rng.integers(width)] = 1
    w = weight_map(labels, w0=10, sigma=sigma)
    d1, d2 = direct_distances(labels)
    assert np.array_equal(w.d1, d1)
    known = np.isfinite(w.d2)
    assert np.array_equal(w.d2[known], d2[known])  # exact wherever it is reported
    assert np.all(d2[~known] > CUTOFF * sigma)  # and reported as inf only beyond the cut-off
    direct = np.where(labels == 0, 10 * np.exp(-((d1 + d2) ** 2) / (2 * sigma**2)), 0.0)
    eps = float(np.finfo(np.float64).eps)
    np.testing.assert_allclose(w.border_term, direct, rtol=1e-13, atol=10 * eps)


def test_huge_cell_ids_and_no_background(tmp_path):
    labels = np.zeros((30, 30), dtype=np.int64)
    labels[5:12, 5:12] = 10**12
    labels[5:12, 13:20] = 7
    w = weight_map(labels)
    assert w.border_term[8, 12] == pytest.approx(10 * math.exp(-4 / 50))  # a one-pixel gap: d1 = d2 = 1
    full = weight_map(np.ones((6, 6), dtype=int))  # every pixel a cell: no border term, no error
    assert np.all(full.border_term == 0) and np.all(np.isinf(full.d2))

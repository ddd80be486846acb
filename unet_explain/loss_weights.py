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
  Figure 3d shows it; inside a cell
  the distance to its own border is zero, and the term would light up every
  cell near another one.

How ``d1`` and ``d2`` are computed, in memory proportional to the image
-------------------------------------------------------------------------

The direct way keeps one distance image per cell and sorts them: memory of
``cells x H x W`` (10,000 cells in a 2000x2000 image: 320 GB). Instead:

* ``d1`` is one exact Euclidean distance transform of the background
  (``scipy.ndimage.distance_transform_edt``): the distance to the nearest
  pixel of any cell.
* ``d2`` only matters where the border term is not negligible. Where
  ``d2 > R`` with ``R = sigma * sqrt(2 ln(2 / eps))`` (about 8.6 sigma; ``eps``
  the float64 machine epsilon) the term is below ``w0 * eps / 2``, i.e. it
  does not change ``w(x)`` at float64 precision. So each cell's distance
  transform is computed only in a window: the cell's bounding box grown by
  ``R`` on every side. Inside it the distance to that cell is exact (all of
  the cell lies inside), and outside it the distance exceeds ``R``. Two
  running arrays keep the smallest and second-smallest distance seen per pixel.
  ``d2`` is therefore exact wherever it is at most ``R``, and reported as
  ``inf`` beyond (where the term is 0 at float precision; the tests check the
  result against the direct method on random images).

Memory is a few arrays of the image's size; time is the sum of the windows'
areas, about ``cells x (cell size + 2R)^2``. That work is bounded
(:data:`MAX_WINDOW_PIXELS`), and so are the image (:data:`MAX_PIXELS`) and the
number of cells (:data:`MAX_CELLS`, counted before any distance is computed);
above any, the input is refused with a message saying what to change. ``w0``
is at most :data:`MAX_W0` and ``sigma`` between :data:`MIN_SIGMA` and
:data:`MAX_SIGMA` pixels, so that no number overflows.
"""

from __future__ import annotations

import math
import numbers
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from unet_explain.errors import ConfigError, shown

PAPER_W0 = 10.0
PAPER_SIGMA = 5.0

#: Largest image accepted, in pixels (4096 x 4096): the map needs a few float64 arrays of this size.
MAX_PIXELS = 4096 * 4096
#: Largest total area of the per-cell windows (see the module docstring): bounds the time. A distance
#: transform costs 40-80 ns a pixel on the shared 2-core machine, so this is 12-24 s, under the 30 s bound.
MAX_WINDOW_PIXELS = 300_000_000
#: Most cells in one image: each costs a windowed distance transform (the paper's images hold hundreds).
MAX_CELLS = 10_000
#: Bounds of the border term's parameters (the paper: w0 = 10, sigma about 5 pixels).
MAX_W0 = 1e6
MIN_SIGMA, MAX_SIGMA = 0.1, 10_000.0
#: Beyond ``CUTOFF * sigma`` the border term is below ``w0 * eps / 2`` (float64).
CUTOFF = math.sqrt(2 * math.log(2 / float(np.finfo(np.float64).eps)))


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
    """Distance to the second-nearest cell; inf where there is none within ``CUTOFF * sigma`` (term below eps)."""

    @property
    def total(self) -> np.ndarray:
        """``w(x)``, the weight of every pixel in the loss."""
        return np.asarray(self.class_term + self.border_term)


def check_label_shape(labels: Any) -> None:
    """The shape rules alone (no data read): a non-empty 2-D image of at most :data:`MAX_PIXELS` pixels."""
    shape = tuple(getattr(labels, "shape", ()))
    if len(shape) != 2 or 0 in shape:
        raise ConfigError("labels", f"must be a non-empty 2-D image of cell ids; got shape {shape}")
    if shape[0] * shape[1] > MAX_PIXELS:
        raise ConfigError(
            "labels",
            f"has {shape[0]}x{shape[1]} pixels, above the limit of {MAX_PIXELS:,} (4096x4096); "
            "compute the map on crops of the image",
        )


def _check_dtype(dtype: np.dtype[Any]) -> None:
    if dtype.kind not in "iuf":
        raise ConfigError("labels", f"must hold whole numbers (0 = background, k = cell k); got {dtype}")


class _Shape:
    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape


def load_labels(path: str | os.PathLike[str]) -> np.ndarray:
    """The image of cell ids in a ``.npy`` file, checked from its header before any data is read.

    Only a regular file with a NumPy header is opened; its dtype (integers or
    floats), shape (2-D, at most :data:`MAX_PIXELS`) and length are checked
    from the header, so a huge or hostile file is refused after reading a few
    hundred bytes. A zip archive (``.npz``) is refused without being opened as
    one, and nothing is ever unpickled.
    """
    name = shown(os.fspath(path))
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError("labels", f"{name} is not a regular file; save the array with np.save")
        with open(path, "rb") as handle:
            magic = handle.read(6)
            if magic.startswith(b"PK"):
                raise ConfigError(
                    "labels",
                    f"{name} is a zip archive: it holds several arrays (.npz) or none; save one array with np.save",
                )
            if magic != b"\x93NUMPY":
                raise ConfigError("labels", f"{name} is not a .npy array file (no NumPy header); save it with np.save")
            handle.seek(0)
            try:
                version = np.lib.format.read_magic(handle)
                read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else None
                read_header = read_header or np.lib.format.read_array_header_2_0
                shape, _, dtype = read_header(handle, max_header_size=10_000)
            except (ValueError, SyntaxError, TypeError) as err:
                raise ConfigError(
                    "labels", f"{name} is not a readable .npy array of cell ids (damaged header: {_first_line(err)})"
                ) from None
            _check_dtype(dtype)
            check_label_shape(_Shape(tuple(shape)))
            needed = handle.tell() + math.prod(shape) * dtype.itemsize
            if info.st_size < needed:
                raise ConfigError(
                    "labels",
                    f"{name} is cut short: its header promises {needed:,} bytes, the file holds {info.st_size:,}",
                )
            handle.seek(0)
            labels = np.lib.format.read_array(handle, allow_pickle=False, max_header_size=10_000)
    except ConfigError:
        raise
    except (OSError, ValueError, EOFError) as err:
        why = getattr(err, "strerror", None) or _first_line(err)
        raise ConfigError("labels", f"{name} is not a readable .npy array of cell ids ({why})") from None
    return np.asarray(labels)


def _first_line(err: BaseException) -> str:
    from unet_explain.errors import plain

    text = str(err).strip()
    return plain(text.splitlines()[0], 160) if text else type(err).__name__


def _number(name: str, value: Any, rule: str) -> float:
    """A real number as a float (Python or NumPy scalar; not a bool), or the one-line refusal."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ConfigError(name, f"{rule}; got {shown(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise ConfigError(name, f"{rule}; got {number}")
    return number


def _check_labels(instance_labels: Any) -> np.ndarray:
    labels = np.asarray(instance_labels)
    check_label_shape(labels)
    _check_dtype(labels.dtype)
    if not np.issubdtype(labels.dtype, np.integer):
        labels = labels.astype(np.float64)  # float16 would overflow comparing with 2**53
        whole = np.all(np.isfinite(labels)) and np.all(np.mod(labels, 1) == 0)
        if not whole or np.abs(labels).max() > 2**53:
            raise ConfigError(
                "labels", f"must hold whole numbers up to 2**53 (0 = background, k = cell k); got {labels.dtype}"
            )
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
            raise ConfigError(
                "class_weights", f"must be 'balanced', None or {{0: w, 1: w}}; got {shown(class_weights)}"
            )
        n = labels.size
        counts = {0: int((~cell).sum()), 1: int(cell.sum())}
        weights = {c: (n / (2 * k) if k else 0.0) for c, k in counts.items()}
    elif isinstance(class_weights, Mapping) and set(class_weights) == {0, 1}:
        rule = "must map 0 (background) and 1 (cells) to finite numbers of at least 0"
        weights = {c: _number("class_weights", class_weights[c], rule) for c in (0, 1)}
        if min(weights.values()) < 0:
            raise ConfigError("class_weights", f"{rule}; got {weights}")
    else:
        raise ConfigError("class_weights", f"must be 'balanced', None or {{0: w, 1: w}}; got {shown(class_weights)}")
    return np.asarray(np.where(cell, weights[1], weights[0]), dtype=np.float64)


def weight_map(
    instance_labels: Any,
    w0: float = PAPER_W0,
    sigma: float = PAPER_SIGMA,
    class_weights: str | Mapping[int, float] | None = "balanced",
) -> WeightMap:
    """The paper's weight map for an image of cell ids (0 = background, 1..n = cells)."""

    w0 = _number("w0", w0, "must be a finite number of at least 0 (the paper: 10)")
    if w0 < 0:
        raise ConfigError("w0", f"must be a finite number of at least 0 (the paper: 10); got {w0:g}")
    if w0 > MAX_W0:
        raise ConfigError("w0", f"must be at most {MAX_W0:g} (the paper: 10); got {w0:g}")
    sigma = _number("sigma", sigma, "must be a finite number greater than 0 (the paper: about 5)")
    if sigma <= 0:
        raise ConfigError("sigma", f"must be a finite number greater than 0 (the paper: about 5); got {sigma:g}")
    if not MIN_SIGMA <= sigma <= MAX_SIGMA:
        raise ConfigError(
            "sigma", f"must be from {MIN_SIGMA:g} to {MAX_SIGMA:g} pixels (the paper: about 5); got {sigma:g}"
        )
    labels = _check_labels(instance_labels)
    d1, d2 = nearest_two_distances(labels, sigma)
    with np.errstate(under="ignore"):
        border = w0 * np.exp(-0.5 * ((d1 + d2) / sigma) ** 2)
    border = np.where(labels == 0, border, 0.0)
    return WeightMap(class_term=class_balance(labels, class_weights), border_term=border, d1=d1, d2=d2)


def nearest_two_distances(labels: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """``d1`` (exact) and ``d2`` (exact where at most ``CUTOFF * sigma``, else inf), by windowed transforms."""
    from scipy import ndimage

    # np.unique's return_inverse sorts with a stable argsort: 22 s on a 4096x4096 image; a plain unique and a
    # binary search give the same dense ids in 2.5 s.
    ids = np.unique(labels)
    dense = np.searchsorted(ids, labels)
    cells = len(ids) - int(ids[0] == 0)
    if cells > MAX_CELLS:
        raise ConfigError(
            "labels",
            f"holds {cells:,} cells, above the limit of {MAX_CELLS:,} (each needs its own distance transform); "
            "pass a crop with fewer cells",
        )
    dense = dense.reshape(labels.shape)
    if ids[0] != 0:  # no background: dense ids must still start at 1 for find_objects
        dense = dense + 1
    boxes = ndimage.find_objects(dense)
    height, width = labels.shape
    reach = min(CUTOFF * sigma, math.hypot(height, width))
    grow = math.ceil(reach)
    windows = []
    work = 0
    for k, box in enumerate(boxes, start=1):
        if box is None:
            continue
        rows, cols = box
        window = (
            slice(max(rows.start - grow, 0), min(rows.stop + grow, height)),
            slice(max(cols.start - grow, 0), min(cols.stop + grow, width)),
        )
        work += (window[0].stop - window[0].start) * (window[1].stop - window[1].start)
        windows.append((k, window))
    if work > MAX_WINDOW_PIXELS:
        raise ConfigError(
            "sigma",
            f"{sigma:g} with {len(windows)} cells in a {height}x{width} image needs distance transforms over "
            f"{work:,} pixels (limit {MAX_WINDOW_PIXELS:,}); use a smaller --sigma (the paper: about 5) "
            "or a crop with fewer cells",
        )
    d1 = np.asarray(ndimage.distance_transform_edt(labels == 0), dtype=np.float64)
    first = np.full(labels.shape, np.inf)
    second = np.full(labels.shape, np.inf)
    for k, window in windows:
        distance = ndimage.distance_transform_edt(dense[window] != k)
        near, far = first[window], second[window]
        np.minimum(far, np.maximum(near, distance), out=far)
        np.minimum(near, distance, out=near)
    second[second > reach] = np.inf
    return d1, second


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

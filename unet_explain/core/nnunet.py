"""nnU-Net's memory rule applied to our networks, for comparison with the exact count (no TensorFlow).

nnU-Net (Isensee et al., Nature Methods 2021) picks its patch and batch size
without allocating anything. Its planner (``default_experiment_planner.py`` in
nnunetv2, with the count from dynamic-network-architectures'
``compute_conv_feature_map_size``) adds up, for one sample, the number of
values every convolution, transposed convolution and segmentation head
outputs. It then treats a fixed number of such values as what fits in 8 GB: a
reference count (2D: 85,000,000 at batch 12; 3D: 560,000,000 at batch 2),
scaled in proportion to the GPU memory targeted. Its maintainers describe
these reference values as arbitrary, chosen to reproduce the configurations
of an earlier version (nnU-Net issue 1152). The count leaves out poolings,
normalisation and activation outputs, concatenations, weights, gradients and
optimizer state; the reference constant is meant to absorb them all.

Here the same count is made for our networks (one head, as ours have; nnU-Net
with deep supervision adds one per decoder level), and turned into the bytes
the rule implies: ``values x batch x (8 GiB / (reference x reference batch))``,
about 8.4 bytes per value in 2D and 7.7 in 3D.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from unet_explain.core import spec as sp
from unet_explain.core.memory import layer_sizes

if TYPE_CHECKING:
    from unet_explain.core.spec import UNetSpec

#: nnU-Net's reference counts, the batch sizes they stand for, and the memory they correspond to.
REFERENCE = {2: (85_000_000, 12), 3: (560_000_000, 2)}
REFERENCE_BYTES = 8 * 2**30  # their "8 GB", read as GiB

COUNTED = (sp.CONV3X3, sp.UPCONV, sp.CONV1X1)


@dataclass(frozen=True)
class NnUNetEstimate:
    """nnU-Net's count for one tile, and the bytes its rule implies."""

    values: int
    """Output values of every convolution, up-convolution and the head, for one sample."""
    batch: int
    """Samples per step."""
    implied_bytes: int
    """What the rule treats the step as needing: values x batch x bytes per reference value."""


def bytes_per_value(axes: int) -> float:
    """Bytes the reference count implies for one counted value (2D about 8.4, 3D about 7.7)."""
    reference, batch = REFERENCE[axes]
    return REFERENCE_BYTES / (reference * batch)


def nnunet_estimate(spec: UNetSpec, tile: tuple[int, ...] | None = None, batch: int = 1) -> NnUNetEstimate:
    """nnU-Net's count for ``tile`` (default: the spec's own) and the memory its rule implies."""
    tile = tuple(spec.config.input_size) if tile is None else tuple(tile)
    sizes = layer_sizes(spec, tile)
    values = sum(math.prod(sizes(layer.name)) * layer.channels for layer in spec.layers if layer.kind in COUNTED)
    implied = math.ceil(values * batch * bytes_per_value(len(tile)))
    return NnUNetEstimate(values=values, batch=batch, implied_bytes=implied)

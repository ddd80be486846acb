"""How much memory building a Keras model will take, known from the spec before TensorFlow is imported.

Building the model allocates every weight as float32: ``params x 4`` bytes.
While a layer's weights are initialised, the initializer's random tensor and
the variable exist side by side, so the peak holds the largest single layer
twice. That is the estimate (TensorFlow's own few hundred MiB come on top and
do not grow with the network):

    estimate = 4 bytes x (total params + largest layer's params)

A network above the budget (:data:`DEFAULT_BUDGET`, 4 GiB, unless raised) is
refused with the estimate in the message, before anything is allocated:
``--base-filters 4096`` would otherwise ask for hundreds of GB and fail deep
inside TensorFlow.

A volume (the 3D U-Net) is checked once more: the float32 activations of one
forward pass over one tile (the spec's ``activation_bytes``) must fit the
budget too, since a 3D tile's maps grow with the cube of its side and a tile
that cannot run once is of no use. This is why 3D tiles are small.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from unet_explain.errors import ConfigError

if TYPE_CHECKING:
    from unet_explain.config import UNetConfig

#: Bytes the weights of a model may take when nothing else is said: 4 GiB.
DEFAULT_BUDGET = 4 * 2**30

BYTES_PER_WEIGHT = 4  # float32

_budget = DEFAULT_BUDGET

_UNITS = {"": 1, "b": 1, "k": 2**10, "kb": 10**3, "kib": 2**10, "m": 2**20, "mb": 10**6, "mib": 2**20}
_UNITS |= {"g": 2**30, "gb": 10**9, "gib": 2**30, "t": 2**40, "tb": 10**12, "tib": 2**40}
_UNITS |= {"p": 2**50, "pb": 10**15, "pib": 2**50, "e": 2**60, "eb": 10**18, "eib": 2**60}


@dataclass(frozen=True)
class MemoryEstimate:
    """The bytes building a model will take."""

    params: int
    """All weights and biases."""
    largest_layer: int
    """Parameters of the largest single layer (held twice while it is initialised)."""

    @property
    def bytes(self) -> int:
        """The estimate in bytes."""
        return BYTES_PER_WEIGHT * (self.params + self.largest_layer)


def estimate(config: UNetConfig) -> MemoryEstimate:
    """The memory estimate of building ``config``'s model (pure arithmetic, no TensorFlow)."""
    from unet_explain.core.spec import build_spec

    spec = build_spec(config)
    largest = max(layer.params for stage in spec.stages for layer in stage.layers)
    return MemoryEstimate(params=spec.totals.params, largest_layer=largest)


def human_bytes(n: float) -> str:
    """``4.0 GiB``: binary units, one decimal."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def parse_bytes(text: str) -> int:
    """``"8GiB"``, ``"512M"``, ``"6 GB"`` or a plain number of bytes; K/M/G/T/P/E alone are binary units."""
    match = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*([kmgtpe]?i?b?)\s*", text.lower())
    if match is None or match.group(2) not in _UNITS:
        raise ConfigError("max_memory", f"must be a size such as 8GiB, 512MiB or 6GB; got {text!r}")
    value = float(match.group(1)) * _UNITS[match.group(2)]
    if not 1 <= value <= 2**60:
        raise ConfigError("max_memory", f"must be between 1 byte and 1 EiB; got {text!r}")
    return int(value)


def current_budget() -> int:
    """The budget in force (see :func:`memory_budget`)."""
    return _budget


@contextlib.contextmanager
def memory_budget(limit: int | None) -> Iterator[None]:
    """Use ``limit`` bytes as the budget inside the ``with`` block (``None``: keep the current one)."""
    global _budget
    previous = _budget
    if limit is not None:
        _budget = limit
    try:
        yield
    finally:
        _budget = previous


def _budget_flag(n: float) -> str:
    return human_bytes(n * 1.1).replace(" ", "").replace(".0", "")


def check_volume_memory(config: UNetConfig, limit: int | None = None) -> int:
    """Refuse a volume whose one-tile forward pass needs more float32 activations than ``limit``; return the bytes."""
    from unet_explain.config import format_size
    from unet_explain.core.spec import build_spec

    limit = current_budget() if limit is None else limit
    needed = build_spec(config).totals.activation_bytes
    if config.dims == 3 and needed > limit:
        raise ConfigError(
            "input_size",
            f"{format_size(config.input_size)} is a volume whose forward pass needs about {human_bytes(needed)} of "
            f"float32 activations per tile, above the memory budget of {human_bytes(limit)} (3D maps grow with the "
            f"cube of the side); use a smaller volume tile such as 132x132x116 and tile the volume with "
            f"'tile --image', or raise the budget with --max-memory {_budget_flag(needed)}",
        )
    return needed


def check_memory(config: UNetConfig, limit: int | None = None) -> MemoryEstimate:
    """Refuse, with the estimate, a model whose weights would exceed ``limit`` (default: the budget in force).

    A volume's tile must also fit: see :func:`check_volume_memory`.
    """
    limit = current_budget() if limit is None else limit
    found = estimate(config)
    if found.bytes > limit:
        raise ConfigError(
            "base_filters",
            f"{config.base_filters} with depth {config.depth} gives {found.params:,} parameters: building the model "
            f"needs about {human_bytes(found.bytes)} for its float32 weights, above the memory budget of "
            f"{human_bytes(limit)}; use fewer --base-filters or a smaller --depth, or raise the budget with "
            f"--max-memory {_budget_flag(found.bytes)}",
        )
    check_volume_memory(config, limit)
    return found

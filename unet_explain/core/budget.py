"""How much memory building a Keras model will take, known from the spec before TensorFlow is imported.

Measured, not guessed: the peak resident memory of ``verify`` (build the model,
compare it with the spec) for ``--base-filters`` 8, 64, 128 and 192 was 539,
722, 1,430 and 2,206 MiB (tests/test_reliability_budget.py measures it again),
and 6.2 GiB for 329; a saved model with one 400-million-parameter layer peaked
at 4.8 GiB while Keras built it. Above TensorFlow's own start-up (about 540 MiB,
whatever the network), the peak holds each float32 weight and the
initializer's copy of it (TensorFlow frees the copies lazily), and the largest
layer once more (the random generator's own temporary). So the estimate is

    estimate = RUNTIME_BYTES + 4 bytes x (2 x total params + largest layer's params)

which is at or above every measured peak and within 1.4 times of it.
``--base-filters 329`` (820 million parameters) is estimated at 7.7 GiB; its
weights alone (3.1 GiB) are under the budget, its peak is not.

A network above the budget (:data:`DEFAULT_BUDGET`, 4 GiB, unless raised) is
refused with the estimate in the message, before anything is allocated:
``--base-filters 4096`` would otherwise ask for hundreds of GB and fail deep
inside TensorFlow. Something that builds several models in one process (the
docs site) passes ``models=N``: their weights add up.

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

from unet_explain.errors import ConfigError, shown

if TYPE_CHECKING:
    from unet_explain.config import UNetConfig

#: Bytes the weights of a model may take when nothing else is said: 4 GiB.
DEFAULT_BUDGET = 4 * 2**30

BYTES_PER_WEIGHT = 4  # float32
#: TensorFlow and Keras before the first weight. Measured for a 0.5-million-parameter network
#: (``summary --base-filters 8``): 539 MiB in one development venv, 645 MiB in a fresh ``make test``
#: venv with the same package versions (the wheels' builds differ); the constant covers both.
RUNTIME_BYTES = 700 * 2**20

_budget = DEFAULT_BUDGET

_UNITS = {"": 1, "b": 1, "k": 2**10, "kb": 10**3, "kib": 2**10, "m": 2**20, "mb": 10**6, "mib": 2**20}
_UNITS |= {"g": 2**30, "gb": 10**9, "gib": 2**30, "t": 2**40, "tb": 10**12, "tib": 2**40}
_UNITS |= {"p": 2**50, "pb": 10**15, "pib": 2**50, "e": 2**60, "eb": 10**18, "eib": 2**60}


@dataclass(frozen=True)
class MemoryEstimate:
    """The bytes building a model (or ``models`` models of the same size, in one process) will take."""

    params: int
    """All weights and biases of one model."""
    largest_layer: int
    """Parameters of the largest single layer."""
    models: int = 1
    """How many such models are built and kept in the same process."""

    @property
    def weights_bytes(self) -> int:
        """The float32 weights alone, of all the models."""
        return BYTES_PER_WEIGHT * self.params * self.models

    @property
    def bytes(self) -> int:
        """The estimated peak (see the module docstring)."""
        return peak_bytes(self.params * self.models, self.largest_layer)


def peak_bytes(params: int, largest_layer: int) -> int:
    """The peak memory of building Keras models with ``params`` parameters in all, the largest layer's given."""
    return RUNTIME_BYTES + BYTES_PER_WEIGHT * (2 * params + largest_layer)


def estimate(config: UNetConfig, models: int = 1) -> MemoryEstimate:
    """The memory estimate of building ``config``'s model (pure arithmetic, no TensorFlow)."""
    from unet_explain.core.spec import build_spec

    spec = build_spec(config)
    largest = max(layer.params for stage in spec.stages for layer in stage.layers)
    return MemoryEstimate(params=spec.totals.params, largest_layer=largest, models=models)


def human_bytes(n: float) -> str:
    """``4.0 GiB``: binary units, one decimal."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def parse_bytes(text: str) -> int:
    """``"8GiB"``, ``"512M"``, ``"6 GB"`` or a plain number of bytes; K/M/G/T/P/E alone are binary units."""
    if not isinstance(text, str):
        raise ConfigError("max_memory", f"must be a size such as 8GiB, 512MiB or 6GB; got {shown(text)}")
    match = re.fullmatch(r"\s*(-?\d{1,30}(?:\.\d{1,30})?)\s*([kmgtpe]?i?b?)\s*", text.lower())
    if match is None or match.group(2) not in _UNITS:
        raise ConfigError("max_memory", f"must be a size such as 8GiB, 512MiB or 6GB; got {shown(text)}")
    value = float(match.group(1)) * _UNITS[match.group(2)]
    if not 1 <= value <= 2**60:
        raise ConfigError("max_memory", f"must be between 1 byte and 1 EiB; got {shown(text)}")
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


def check_memory(config: UNetConfig, limit: int | None = None, *, models: int = 1, what: str = "") -> MemoryEstimate:
    """Refuse, with the estimate, a model whose building would exceed ``limit`` (default: the budget in force).

    ``models`` counts the models built in one process (their weights add up); ``what`` names them in the message
    (default: "building the model").

    A volume's tile must also fit: see :func:`check_volume_memory`.
    """
    limit = current_budget() if limit is None else limit
    found = estimate(config, models)
    if found.bytes > limit:
        doing = what or ("building the model" if models == 1 else f"building its {models} Keras models")
        raise ConfigError(
            "base_filters",
            f"{config.base_filters} with depth {config.depth} gives {found.params:,} parameters: {doing} needs "
            f"about {human_bytes(found.bytes)} ({human_bytes(found.weights_bytes)} of float32 weights, with the "
            f"initializers' copies and TensorFlow), above the memory budget of {human_bytes(limit)}; use fewer "
            f"--base-filters or a smaller --depth, or raise the budget with "
            f"--max-memory {_budget_flag(found.bytes)}",
        )
    check_volume_memory(config, limit)
    return found

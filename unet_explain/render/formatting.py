"""Turn spec numbers into the strings every human-readable format shows.

Numbers live in the spec; this module only formats them, so the terminal table,
markdown, LaTeX and HTML show the same cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from unet_explain.config import format_size
from unet_explain.core import names
from unet_explain.core.spec import Stage, UNetSpec

ARROW = "→"


class Column(StrEnum):
    """The table's columns, in order."""

    STAGE = "Stage"
    INPUT = "Input"
    UPCONV = "Up-conv\n2x2"
    CROP = "Copy and crop"
    CONVS = "3x3 convs\n+ ReLU"
    CHANNELS = "Channels"
    POOL = "Max-pool\n2x2"
    PARAMS = "Params"
    MACS = "MACs"
    MEMORY = "Memory"


NUMERIC = {Column.PARAMS, Column.MACS, Column.MEMORY}


def header(column: Column, spec: UNetSpec) -> str:
    """A column's title for this network: a volume's kernels read 2x2x2 and 3x3x3, and BN is named."""
    text = column.value
    if len(spec.config.input_size) == 3:
        text = text.replace("2x2", "2x2x2").replace("3x3", "3x3x3")
    if spec.config.norm == "batch":
        text = text.replace("+ ReLU", "+ BN + ReLU")
    return text

PATH_TITLES = {
    names.CONTRACTING: "contracting",
    names.BOTTLENECK: "bottleneck",
    names.EXPANSIVE: "expansive",
    names.OUTPUT: "output",
}


def count(n: int) -> str:
    """``31030658`` -> ``"31,030,658"``."""
    return f"{n:,}"


SI_PREFIXES = ((1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))
"""Decimal SI prefixes, largest first (the explorer page reads the same list)."""


def si(n: float, unit: str = "") -> str:
    """Decimal SI prefix, 2 decimals: ``150428424448`` -> ``"150.43 G"``, 1.18e15 -> ``"1.18 P"``."""
    for factor, prefix in SI_PREFIXES:
        if n >= factor:
            return f"{n / factor:.2f} {prefix}{unit}"
    return f"{n:g} {unit}".rstrip() if unit else f"{n:g}"


MEMORY_UNITS = ((1e6, "MB"), (1e9, "GB"), (1e12, "TB"), (1e15, "PB"), (1e18, "EB"))
"""Decimal units from MB (10^6 bytes) up. Keras's "MB" is MiB (2^20 bytes); these are not."""


def megabytes(n: int) -> str:
    """Bytes in decimal units from MB up, one decimal: ``574929024`` -> ``"574.9 MB"``, 3.7e14 -> ``"368.6 TB"``.

    Below a GB the unit is MB (10^6 bytes), so a table's small stages read alike; above, the unit that
    keeps the number under 1000.
    """
    for factor, unit in MEMORY_UNITS:
        text = f"{n / factor:.1f}"
        if float(text) < 1000 or unit == MEMORY_UNITS[-1][1]:
            break
    return f"{text} {unit}"


def mebibytes(n: int) -> str:
    """Bytes in MiB (2^20 bytes), two decimals, as Keras's ``model.summary()`` counts (it writes "MB")."""
    return f"{n / 2**20:.2f} MiB"


def crop_text(stage: Stage, arrow: str = ARROW) -> str:
    """``"568x568 → 392x392 (crop 88)"``; a crop that differs between axes shows each axis."""
    assert stage.skip_size is not None and stage.up_size is not None and stage.crop is not None
    amount = f"crop {stage.crop[0]}" if len(set(stage.crop)) == 1 else f"crop {format_size(stage.crop)}"
    return f"{format_size(stage.skip_size)} {arrow} {format_size(stage.up_size)} ({amount})"


@dataclass(frozen=True)
class Row:
    """One stage's cells, keyed by column."""

    stage: Stage
    """The stage shown."""
    cells: dict[Column, str]
    """The text of each column."""


def stage_row(stage: Stage, arrow: str = ARROW) -> Row:
    """The cells of one stage."""
    is_dec = stage.path == names.EXPANSIVE
    convs = f" {arrow} ".join(format_size(s) for s in stage.conv_sizes)
    if stage.path == names.OUTPUT:
        convs = f"{format_size(stage.out_size)} (1x1 conv)"
    c_first = stage.concat_channels if is_dec else stage.in_channels
    cells = {
        Column.STAGE: stage.name,
        Column.INPUT: format_size(stage.in_size),
        Column.UPCONV: format_size(stage.up_size) if stage.up_size else "",
        Column.CROP: crop_text(stage, arrow) if is_dec else "",
        Column.CONVS: convs,
        Column.CHANNELS: f"{c_first} {arrow} {stage.channels}",
        Column.POOL: format_size(stage.pool_size) if stage.pool_size else "",
        Column.PARAMS: count(stage.params),
        Column.MACS: si(stage.macs),
        Column.MEMORY: megabytes(stage.activation_bytes),
    }
    return Row(stage=stage, cells=cells)


def rows(spec: UNetSpec, arrow: str = ARROW) -> list[Row]:
    """All stage rows, in data-flow order."""
    return [stage_row(stage, arrow) for stage in spec.stages]


def totals_cells(spec: UNetSpec, arrow: str = ARROW) -> dict[Column, str]:
    """The footer: output map and whole-network totals."""
    return {
        Column.STAGE: "total",
        Column.CONVS: f"output {format_size(spec.totals.output_size)}x{spec.config.num_classes}",
        Column.PARAMS: count(spec.totals.params),
        Column.MACS: si(spec.totals.macs),
        Column.MEMORY: megabytes(spec.totals.activation_bytes),
    }


def title(spec: UNetSpec) -> str:
    """Caption naming the configuration."""
    if len(spec.config.input_size) == 3:
        return f"3D U-Net (Cicek et al. 2016): {spec.config.describe()}"
    return f"U-Net (Ronneberger et al. 2015): {spec.config.describe()}"

"""The U in the terminal: Figure 1's layout in characters.

For machines without Graphviz, and for a quick look. The same rules as the
drawn figure (:mod:`unet_explain.render.u_layout`), on a grid of character
columns: each map is a column with its channels above its size; the
contracting path steps down to the right, each level starting in the column
of the previous level's last map, with ``↓`` (max pool) between them; the
expansive path mirrors it on the right with ``↑`` (up-conv) rising from the
last map of the level below into the concatenated map; copy-and-crop arrows
cross the U with the crop written on them. Column ``s`` on the left and
column ``4D + 2 - s`` on the right hold mirror-image maps, as in the figure.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass

from rich.console import Group
from rich.text import Text

from unet_explain.config import format_size_arg
from unet_explain.core import names
from unet_explain.core.spec import UNetSpec
from unet_explain.render import diagram as d
from unet_explain.render.formatting import title

ARROW = " → "


@dataclass(frozen=True)
class _Cell:
    """One map on the grid."""

    stage: str
    channels: str
    size: str


def _size(size: tuple[int, ...]) -> str:
    """``572`` for a square map (Figure 1 writes one number), ``572x636`` or a volume's three sides otherwise."""
    return format_size_arg(size)


class _Canvas:
    """Lines of text built from (column, text, style) pieces."""

    def __init__(self) -> None:
        self.lines: list[list[tuple[int, str, str]]] = []

    def line(self) -> list[tuple[int, str, str]]:
        self.lines.append([])
        return self.lines[-1]

    def render(self) -> list[Text]:
        out = []
        for pieces in self.lines:
            text = Text(no_wrap=True, overflow="ignore")
            column = 0
            for col, piece, style in sorted(pieces, key=lambda p: p[0]):
                if col < column:
                    raise AssertionError(f"text U: {piece!r} at column {col} overlaps the text before it")
                text.append(" " * (col - column))
                text.append(piece, style=style)
                column = col + len(piece)
            out.append(text)
        return out


def u_text(spec: UNetSpec, highlight: Iterable[str] | str | None = None) -> Group:
    """A rich renderable of the U, laid out as Figure 1 (see the module docstring)."""
    depth = spec.config.depth
    lit = d.check_highlight(spec, highlight)
    colours = d.THEMES["light"].edges

    def style(stage: str, base: str = "") -> str:
        return base if not lit or stage in lit else "dim"

    # The grid: column s of row k (rows 1..depth+1; depth+1 is the bottleneck).
    grid: dict[tuple[int, int], _Cell] = {}
    config = spec.config
    grid[(1, 0)] = _Cell(names.encoder(1), str(config.in_channels), _size(config.input_size))
    for stage in spec.stages:
        k = stage.level
        if stage.path in (names.CONTRACTING, names.BOTTLENECK):
            convs = [layer for layer in stage.layers if layer.kind == "conv3x3"]
            for i, conv in enumerate(convs, start=1):
                grid[(k, 2 * (k - 1) + i)] = _Cell(stage.name, str(conv.channels), _size(conv.out_size))
            if stage.pool_size is not None:
                grid[(k + 1, 2 * k)] = _Cell(stage.name, str(stage.channels), _size(stage.pool_size))
        elif stage.path == names.EXPANSIVE:
            assert stage.up_size is not None and stage.up_channels is not None
            up = 4 * depth + 2 - 2 * k
            copied = spec.stage(stage.skip_from or "").channels
            grid[(k, up)] = _Cell(stage.name, f"{copied}+{stage.up_channels}", _size(stage.up_size))
            for i, size in enumerate(stage.conv_sizes, start=1):
                grid[(k, up + i)] = _Cell(stage.name, str(stage.channels), _size(size))
        else:
            grid[(1, 4 * depth + 3)] = _Cell(stage.name, str(stage.channels), _size(stage.out_size))

    columns = 4 * depth + 4
    width = [
        max((max(len(c.channels), len(c.size)) for (_, s), c in grid.items() if s == col), default=1)
        for col in range(columns)
    ]
    middle = 2 * depth + 1  # the bottleneck's middle map: the U's axis

    def starts(extra: int) -> list[int]:
        out, x = [], len(names.BOTTLENECK) + 2
        for col in range(columns):
            out.append(x)
            x += width[col] + len(ARROW) + (extra if col in (middle - 1, middle) else 0)
        return out

    crops = {k: d.crop_label(spec.stage(names.decoder(k))) for k in range(1, depth + 1)}

    def room(x: list[int], k: int) -> int:
        """Characters between level k's last contracting map and its concatenated map."""
        return x[4 * depth + 2 - 2 * k] - (x[2 * k] + width[2 * k])

    base = starts(0)
    extra = max(0, *(math.ceil((len(crops[k]) + 8 - room(base, k)) / 2) for k in range(1, depth + 1)))
    x = starts(extra)

    canvas = _Canvas()
    for k in range(1, depth + 2):
        cells = sorted((s, c) for (row, s), c in grid.items() if row == k)
        top, bottom = canvas.line(), canvas.line()
        for s, c in cells:
            top.append((x[s] + (width[s] - len(c.channels)) // 2, c.channels, style(c.stage, "bold")))
            bottom.append((x[s] + (width[s] - len(c.size)) // 2, c.size, style(c.stage)))
        for (s1, _), (s2, c2) in itertools.pairwise(cells):
            start, end = x[s1] + width[s1], x[s2]
            if s2 == s1 + 1:
                op = d.HEAD if c2.stage == names.OUTPUT else d.CONV
                glyph = " ⇒ " if op == d.HEAD else ARROW
                bottom.append((start, glyph.center(end - start), style(c2.stage, colours[op])))
            else:  # copy and crop across the U
                label = f" {crops[k]} "
                dashes = end - start - len(label) - 3
                line = "╌" * (dashes // 2) + label + "╌" * (dashes - dashes // 2) + "▶"
                bottom.append((start + 1, line, style(c2.stage, colours[d.COPY])))
        first, last = cells[0], cells[-1]
        if k == depth + 1:
            left_name, right_name = names.BOTTLENECK, ""
        else:
            left_name, right_name = names.encoder(k), names.decoder(k)
            if k == 1:
                right_name += " + output"
        bottom.append((x[first[0]] - len(left_name) - 2, left_name, style(left_name, "bold")))
        if right_name:
            right_stage = names.decoder(k)
            bottom.append((x[last[0]] + width[last[0]] + 2, right_name, style(right_stage, "bold")))
        if k <= depth:  # the arrows to the next row down: pooling on the left, up-conv on the right
            between = canvas.line()
            pool_col, up_col = 2 * k, 4 * depth + 2 - 2 * k
            between.append((x[pool_col] + width[pool_col] // 2, "↓", style(names.encoder(k), colours[d.POOL])))
            between.append((x[up_col] + width[up_col] // 2, "↑", style(names.decoder(k), colours[d.UPCONV])))

    legend = Text(no_wrap=True, overflow="ignore")
    for glyph, op in (("→", d.CONV), ("╌▶", d.COPY), ("↓", d.POOL), ("↑", d.UPCONV), ("⇒", d.HEAD)):
        legend.append(f"{glyph} ", style=colours[op])
        legend.append(d.operation_label(op, spec) + "   ")
    heading = Text(title(spec), style="bold", no_wrap=True, overflow="ignore")
    sizes = "sizes in pixels, one number for a square map; channels above"
    if len(config.input_size) == 3:
        sizes = "sizes in voxels, rows x columns x slices; channels above (copy + up-sampled where joined)"
    return Group(heading, Text(), *canvas.render(), Text(), legend, Text(sizes, style="dim"))

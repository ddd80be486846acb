"""A picture of an overlap-tile plan (the paper's Figure 2, for any image and tile), with matplotlib.

The picture costs the same for any image: the output-tile grid is drawn as
lines (one per row and column boundary, not one rectangle per tile), and when
there are more than :data:`MAX_GRID_LINES` boundaries along an axis only every
k-th is drawn, which the title says.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from unet_explain.core.tiling import TilePlan
from unet_explain.render.output import atomic_write, format_from_path

FIGURE_FORMATS = ("png", "svg", "pdf")

#: Most grid lines drawn along one axis; beyond it every k-th boundary is drawn.
MAX_GRID_LINES = 64


def grid_step(tiles: int) -> int:
    """Draw every ``grid_step``-th tile boundary so that at most :data:`MAX_GRID_LINES` lines are drawn."""
    return max(1, -(-tiles // MAX_GRID_LINES))


def tiling_figure(plan: TilePlan) -> Any:
    """A matplotlib Figure: the image, its mirrored border, the output-tile grid and one input tile."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.collections import LineCollection
    from matplotlib.patches import Patch, Rectangle

    (top, left), (h, w) = plan.pad_before, plan.image_size
    ph, pw = plan.padded_size
    (mh, mw), (nh, nw) = plan.output_tile, plan.input_tile
    scale = 7.5 / max(ph, pw)
    fig, ax = plt.subplots(figsize=(max(pw * scale, 4) + 2.6, max(ph * scale, 3) + 0.9), dpi=110)
    ax.add_patch(Rectangle((0, 0), pw, ph, facecolor="#f3e3c3", hatch="////", edgecolor="#c9a96b", lw=0))
    ax.add_patch(Rectangle((left, top), w, h, facecolor="#dbe7f7", edgecolor="#1f4e9c", lw=1.8))
    rows, cols = plan.grid
    row_step, col_step = grid_step(rows), grid_step(cols)
    bottom, right = top + rows * mh, left + cols * mw
    lines = [((left, top + r * mh), (right, top + r * mh)) for r in (*range(0, rows, row_step), rows)]
    lines += [((left + c * mw, top), (left + c * mw, bottom)) for c in (*range(0, cols, col_step), cols)]
    ax.add_collection(LineCollection(lines, colors="#1e9e4a", linewidths=1.0, linestyles="--"))
    # One input tile: the first one, whose context reaches into the mirrored border.
    ax.add_patch(Rectangle((0, 0), nw, nh, fill=False, edgecolor="#c0392b", lw=2.2))
    ax.add_patch(Rectangle((left, top), mw, mh, facecolor="#c0392b", alpha=0.18, edgecolor="#c0392b", lw=1.5))
    ax.annotate(
        f"context {plan.margin[0]} px",
        xy=(left / 2, top + mh / 2),
        rotation=90,
        ha="center",
        va="center",
        fontsize=8,
        color="#8e2a1f",
    )
    ax.set_xlim(-pw * 0.02, pw * 1.02)
    ax.set_ylim(ph * 1.02, -ph * 0.02)
    ax.set_aspect("equal")
    ax.set_xlabel("columns (pixels, in the mirror-padded image)")
    ax.set_ylabel("rows")
    sampled = f"\n(grid lines every {row_step} tile rows, {col_step} tile columns)" if row_step * col_step > 1 else ""
    ax.set_title(
        f"Overlap-tile plan: {h}x{w} image, {plan.grid[0]}x{plan.grid[1]} tiles of {nh}x{nw} -> {mh}x{mw}{sampled}",
        fontsize=10,
    )
    ax.legend(
        handles=[
            Patch(facecolor="#dbe7f7", edgecolor="#1f4e9c", label="the image"),
            Patch(facecolor="#f3e3c3", hatch="////", edgecolor="#c9a96b", label="mirrored border"),
            Patch(fill=False, edgecolor="#1e9e4a", ls="--", label="output tiles"),
            Patch(fill=False, edgecolor="#c0392b", lw=2, label="one input tile"),
            Patch(facecolor="#c0392b", alpha=0.3, label="its output tile"),
        ],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
        frameon=False,
    )
    fig.tight_layout()
    return fig


def figure_bytes(plan: TilePlan, fmt: str) -> bytes:
    """Render the plan's picture to png, svg or pdf bytes."""
    from matplotlib import pyplot as plt

    fig = tiling_figure(plan)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, metadata={"Software": None} if fmt == "png" else None)
    plt.close(fig)
    return buffer.getvalue()


def save_tiling_figure(plan: TilePlan, path: str | Path, fmt: str | None = None) -> Path:
    """Write the plan's picture atomically; the format comes from ``fmt`` or the suffix."""
    path = Path(path)
    return atomic_write(path, figure_bytes(plan, format_from_path(path, fmt, FIGURE_FORMATS)))

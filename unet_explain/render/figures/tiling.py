"""A picture of an overlap-tile plan (the paper's Figure 2, for any image and tile), with matplotlib.

The picture costs the same for any image: the output-tile grid is drawn as
lines (one per row and column boundary, not one rectangle per tile), and when
there are more than :data:`MAX_GRID_LINES` boundaries along an axis only every
k-th is drawn, which the title says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from unet_explain.core.tiling import TilePlan
from unet_explain.render.figures.theme import colours
from unet_explain.render.figures.theme import figure_bytes as themed_bytes
from unet_explain.render.output import atomic_write, format_from_path

FIGURE_FORMATS = ("png", "svg", "pdf")

#: Most grid lines drawn along one axis; beyond it every k-th boundary is drawn.
MAX_GRID_LINES = 64


def grid_step(tiles: int) -> int:
    """Draw every ``grid_step``-th tile boundary so that at most :data:`MAX_GRID_LINES` lines are drawn."""
    return max(1, -(-tiles // MAX_GRID_LINES))


#: Figure width in inches: at the site's ~690 px column the 11-12 pt text is drawn at about 16 px.
WIDTH_IN = 6.4
FONT_PT = 11


def rc_extra(theme: str) -> dict[str, Any]:
    """What the tiling figure adds to the theme's rc: its font size and an opaque page."""
    c = colours(theme)
    return {
        "font.size": FONT_PT,
        "xtick.labelsize": FONT_PT,
        "ytick.labelsize": FONT_PT,
        "figure.facecolor": c["page"],
        "axes.facecolor": c["page"],
        "savefig.facecolor": c["page"],
        "hatch.color": c["border_hatch"],
        "legend.labelcolor": c["fg"],
    }


def tiling_figure(plan: TilePlan, theme: str = "light") -> Any:
    """A matplotlib Figure: the image, its mirrored border, the output-tile grid and one input tile.

    ``theme`` is ``"light"`` or ``"dark"``; draw it inside the theme's rc plus :func:`rc_extra` (as
    :func:`figure_bytes` does) for the text colours to match.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle

    c = colours(theme)
    (top, left), (h, w) = plan.pad_before, plan.image_size
    ph, pw = plan.padded_size
    (mh, mw), (nh, nw) = plan.output_tile, plan.input_tile
    # The axes take the width less room for the row ticks; the title and the legend sit above and below it.
    ax_w = WIDTH_IN - 1.05
    ax_h = min(max(ax_w * ph / pw, 0.6), 7.0)
    head, foot = 0.75, 1.35
    height = head + ax_h + foot
    fig = Figure(figsize=(WIDTH_IN, height), dpi=100)
    ax = fig.add_axes((0.9 / WIDTH_IN, foot / height, ax_w / WIDTH_IN, ax_h / height))
    ax.add_patch(Rectangle((0, 0), pw, ph, facecolor=c["border"], hatch="////", edgecolor=c["border_hatch"], lw=0))
    ax.add_patch(Rectangle((left, top), w, h, facecolor=c["image"], edgecolor=c["image_edge"], lw=1.8))
    rows, cols = plan.grid
    row_step, col_step = grid_step(rows), grid_step(cols)
    bottom, right = top + rows * mh, left + cols * mw
    lines = [((left, top + r * mh), (right, top + r * mh)) for r in (*range(0, rows, row_step), rows)]
    lines += [((left + c_ * mw, top), (left + c_ * mw, bottom)) for c_ in (*range(0, cols, col_step), cols)]
    ax.add_collection(LineCollection(lines, colors=c["grid"], linewidths=1.0, linestyles="--"))
    # One input tile: the first one, whose context reaches into the mirrored border.
    ax.add_patch(Rectangle((0, 0), nw, nh, fill=False, edgecolor=c["tile"], lw=2.2))
    ax.add_patch(Rectangle((left, top), mw, mh, facecolor=c["tile"], alpha=0.25, edgecolor=c["tile"], lw=1.5))
    ax.set_xlim(-pw * 0.02, pw * 1.02)
    ax.set_ylim(ph * 1.02, -ph * 0.02)
    ax.set_aspect("equal", anchor="C")
    ax.set_xlabel("columns (pixels of the mirror-padded image)")
    ax.set_ylabel("rows")
    sampled = f" (grid lines every {row_step} tile rows, {col_step} tile columns)" if row_step * col_step > 1 else ""
    fig.text(
        0.02,
        1 - 0.08 / height,
        f"Overlap-tile plan: {h}x{w} image, {rows}x{cols} tiles",
        va="top",
        fontsize=FONT_PT + 1,
        fontweight="bold",
    )
    fig.text(
        0.02,
        1 - 0.42 / height,
        f"input tiles {nh}x{nw} → output tiles {mh}x{mw}, context {_px(plan.margin)}{sampled}",
        va="top",
        fontsize=FONT_PT - 1 if sampled else FONT_PT,
        color=c["muted"],
    )
    fig.legend(
        handles=[
            Patch(facecolor=c["image"], edgecolor=c["image_edge"], label="the image"),
            Patch(facecolor=c["border"], hatch="////", edgecolor=c["border_hatch"], label="mirrored border"),
            Patch(fill=False, edgecolor=c["grid"], ls="--", label="output tiles"),
            Patch(fill=False, edgecolor=c["tile"], lw=2, label="one input tile"),
            Patch(facecolor=c["tile"], alpha=0.35, label="its output tile"),
        ],
        loc="lower left",
        bbox_to_anchor=(0.0, 0.0),
        ncols=3,
        fontsize=FONT_PT,
        frameon=False,
        handlelength=1.6,
        columnspacing=1.0,
    )
    return fig


def _px(sides: tuple[int, ...]) -> str:
    return f"{sides[0]} px" if sides[0] == sides[1] else f"{sides[0]} px (rows), {sides[1]} px (columns)"


def figure_bytes(plan: TilePlan, fmt: str, theme: str = "light") -> bytes:
    """Render the plan's picture to png, svg or pdf bytes, in the ``light`` or ``dark`` colours."""
    return themed_bytes(lambda: tiling_figure(plan, theme), theme, fmt, rc_extra(theme))


def save_tiling_figure(plan: TilePlan, path: str | Path, fmt: str | None = None, theme: str = "light") -> Path:
    """Write the plan's picture atomically; the format comes from ``fmt`` or the suffix."""
    path = Path(path)
    return atomic_write(path, figure_bytes(plan, format_from_path(path, fmt, FIGURE_FORMATS), theme))

"""What the lesson figures draw with: the figure and its canvas, grids of cells, boxes, arrows, wrapped text."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

from unet_explain.config import format_size
from unet_explain.render.figures.theme import colours as theme_colours

if TYPE_CHECKING:
    from unet_explain.core.spec import Stage, UNetSpec

#: Figure width in inches: at the site's ~690 px column the 13 pt text is drawn at about 18 px.
WIDTH_IN = 6.4
FONT_PT = 13


def rc_extra(theme: str) -> dict[str, Any]:
    """What the lesson figures add to the theme's rc: their font, and hatching in the 'drop' colour."""
    return {
        "font.family": "DejaVu Sans",
        "font.size": FONT_PT,
        "hatch.color": theme_colours(theme)["drop"],
        "hatch.linewidth": 1.2,
        "path.simplify": False,
    }


def colours(theme: str) -> dict[str, str]:
    """The theme's colours (:data:`unet_explain.render.figures.theme.PALETTE`)."""
    return theme_colours(theme)


def new_figure(theme: str, height: float) -> Any:
    """A figure of the site's column width and ``height`` inches."""
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH_IN, height), dpi=100)


def canvas(fig: Any, x: tuple[float, float], y: tuple[float, float]) -> Any:
    """One axes over the whole figure, in data units with y growing downwards, no frame."""
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(*x)
    ax.set_ylim(y[1], y[0])
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def cells(
    ax: Any,
    x0: float,
    y0: float,
    rows: int,
    cols: int,
    *,
    face: str,
    edge: str,
    size: float = 1.0,
    **kwargs: Any,
) -> None:
    """A grid of ``rows`` x ``cols`` square cells from (x0, y0)."""
    from matplotlib.patches import Rectangle

    for r in range(rows):
        for c in range(cols):
            ax.add_patch(
                Rectangle((x0 + c * size, y0 + r * size), size, size, facecolor=face, edgecolor=edge, **kwargs)
            )


def box(ax: Any, x: float, y: float, w: float, h: float, **kwargs: Any) -> None:
    """One rectangle."""
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((x, y), w, h, **kwargs))


def arrow(ax: Any, start: tuple[float, float], end: tuple[float, float], colour: str, **kwargs: Any) -> None:
    """An arrow from ``start`` to ``end``."""
    ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1.8, **kwargs})


def size(sides: tuple[int, ...]) -> str:
    """``572x572`` (``132x132x116`` for a volume)."""
    return format_size(sides)


def px(sides: tuple[int, ...]) -> str:
    """A per-axis amount: ``"88 px"`` when the axes agree, else ``"88 px (rows), 90 px (columns)"``."""
    if len(set(sides)) == 1:
        return f"{sides[0]} px"
    return ", ".join(f"{n} px ({axis})" for n, axis in zip(sides, ("rows", "columns", "slices"), strict=False))


def stages(spec: UNetSpec, path: str) -> list[Stage]:
    """The stages on one path (``contracting``, ``expansive``, ...)."""
    return [stage for stage in spec.stages if stage.path == path]


def wrap(text: str, width: int = 62) -> list[str]:
    """``text`` as lines of at most ``width`` characters."""
    return textwrap.wrap(text, width=width, break_on_hyphens=False) or [""]


def lines(ax: Any, x: float, y: float, lines: list[str], step: float, **kwargs: Any) -> float:
    """Write lines top-down from (x, y); return the y below the last one."""
    for line in lines:
        ax.text(x, y, line, va="top", **kwargs)
        y += step
    return y

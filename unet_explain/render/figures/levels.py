"""Down the U the map shrinks and the channels grow, level by level."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from unet_explain.core import names
from unet_explain.render.figures import drawing as d

if TYPE_CHECKING:
    from unet_explain.core.spec import UNetSpec


def draw(spec: UNetSpec, theme: str) -> Any:
    c = d.colours(theme)
    stages = [s for s in spec.stages if s.path in (names.CONTRACTING, names.BOTTLENECK)]
    sides = [s.out_size for s in stages]
    chans = [s.channels for s in stages]
    n = len(stages)
    height = 1.05 + 0.48 * n + 0.75
    fig = d.new_figure(theme, height)
    ax = fig.add_axes((0.0, 0.75 / height, 1.0, 0.48 * n / height))
    ax.set_xlim(-1.12, 0.98)
    ax.set_ylim(n - 0.4, -0.6)
    ax.axis("off")
    gap, reach = 0.15, 0.5
    max_side, max_ch = max(max(s) for s in sides), max(chans)
    for y, (stage, side, ch) in enumerate(zip(stages, sides, chans, strict=True)):
        hot = stage.path == names.BOTTLENECK
        edge = c["accent"] if hot else c["keep"]
        face = c["accent_fill"] if hot else c["keep_fill"]
        wl = reach * max(side) / max_side
        d.box(ax, -gap - wl, y - 0.32, wl, 0.64, facecolor=face, edgecolor=edge, lw=1.4)
        ax.text(-gap - wl - 0.02, y, d.size(side), ha="right", va="center", fontsize=11)
        wr = reach * ch / max_ch
        d.box(ax, gap, y - 0.32, wr, 0.64, facecolor=face, edgecolor=edge, lw=1.4)
        ax.text(gap + wr + 0.02, y, str(ch), ha="left", va="center", fontsize=11)
        ax.text(
            0,
            y,
            "bottle-\nneck" if hot else stage.name,
            ha="center",
            va="center",
            fontsize=11,
            fontweight="bold" if hot else "normal",
            linespacing=1.0,
        )
    ax.text(-gap, -0.5, "← map size (px)", ha="right", va="bottom", fontsize=11, color=c["muted"])
    ax.text(gap, -0.5, "channels →", ha="left", va="bottom", fontsize=11, color=c["muted"])
    bottom = stages[-1]
    fig.text(0.02, 1 - 0.08 / height, "Down the U the map shrinks and the channels grow", va="top", fontweight="bold")
    fig.text(
        0.02,
        1 - 0.45 / height,
        "\n".join(
            d.wrap(
                f"the bottleneck: the smallest map ({d.size(bottom.out_size)}) "
                f"with the most channels ({bottom.channels})",
                72,
            )
        ),
        va="top",
        fontsize=11,
        color=c["muted"],
    )
    share = bottom.params / spec.totals.params
    fig.text(
        0.02,
        0.1 / height,
        "\n".join(
            d.wrap(
                f"its weights: {bottom.params:,} of {spec.totals.params:,} ({share:.0%}); a 3x3 conv has "
                f"9 · C_in · C_out of them",
                74,
            )
        ),
        va="bottom",
        fontsize=11,
        color=c["fg"],
    )
    return fig


def alt(spec: UNetSpec) -> str:
    stages = [s for s in spec.stages if s.path in (names.CONTRACTING, names.BOTTLENECK)]
    rows = "; ".join(f"{s.name} {d.size(s.out_size)} with {s.channels} channels" for s in stages)
    return (
        f"Map size against channels at every level of the contracting path and the bottleneck: {rows}. The "
        f"bottleneck has the smallest map and the most channels, and {spec.stage(names.BOTTLENECK).params:,} of "
        f"the {spec.totals.params:,} parameters."
    )

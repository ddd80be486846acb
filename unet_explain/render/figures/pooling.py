"""2x2 max-pooling with stride 2: why every pooled map must have an even size."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from unet_explain.config import UNetConfig, format_size
from unet_explain.core import names
from unet_explain.errors import ConfigError
from unet_explain.render.figures import drawing as d

if TYPE_CHECKING:
    from unet_explain.core.spec import UNetSpec


_POOL_VALUES = (
    (1, 5, 2, 0, 3),
    (3, 2, 7, 4, 1),
    (6, 0, 1, 3, 8),
    (2, 4, 5, 9, 2),
    (7, 1, 3, 0, 6),
)


def _near_invalid_size(spec: UNetSpec) -> tuple[tuple[int, int], str] | None:
    """The invalid tile nearest to this config's (changing the height), with the CLI's message for it."""
    cfg = spec.config
    h, w = cfg.input_size
    for delta in (-2, 2, -1, 1, -4, 4, -3, 3, -6, 6, -8, 8):
        size = (h + delta, w) if h != w else (h + delta, h + delta)
        if size[0] < 1:
            continue
        try:
            UNetConfig(input_size=size, depth=cfg.depth, padding=cfg.padding)
        except ConfigError as err:
            return size, err.with_flag_names()
    return None


def draw(spec: UNetSpec, theme: str) -> Any:
    c = d.colours(theme)
    hues = c["hues"].split(",")
    pools = ", ".join(
        f"{stage.out_size[0]}→{stage.pool_size[0]}"
        if stage.out_size[0] == stage.out_size[1] and stage.pool_size and stage.pool_size[0] == stage.pool_size[1]
        else f"{d.size(stage.out_size)}→{d.size(stage.pool_size or (0, 0))}"
        for stage in d.stages(spec, names.CONTRACTING)
    )
    depth = spec.config.depth
    text = d.wrap(f"This network's {depth} pooling{'s' if depth > 1 else ''}, all on even sizes: {pools}.")
    near = _near_invalid_size(spec)
    error: list[str] = []
    if near is not None:
        text += ["", f"A tile of {format_size(near[0])} breaks the rule; in the CLI's words:"]
        error = d.wrap(near[1])
    x_span, step = 19.0, 0.95
    top, y0 = 7.6, -1.4
    bottom = top + step * (len(text) + len(error)) + 0.2
    fig = d.new_figure(theme, d.WIDTH_IN * (bottom - y0) / x_span)
    ax = d.canvas(fig, (-1.3, x_span - 1.3), (y0, bottom))

    def pooled(x0: float, n: int, label: str) -> None:
        kept = n - n % 2
        for r in range(n):
            for col in range(n):
                inside = r < kept and col < kept
                hue = hues[(r // 2) * 2 % 4 + (col // 2) % 2] if inside else c["drop"]
                d.box(
                    ax,
                    x0 + col,
                    r,
                    1,
                    1,
                    facecolor=hue if inside else c["drop_fill"],
                    edgecolor=c["fg"] if inside else c["drop"],
                    alpha=0.55 if inside else 1.0,
                    lw=0.8,
                    hatch=None if inside else "//",
                )
                ax.text(x0 + col + 0.5, r + 0.5, str(_POOL_VALUES[r][col]), ha="center", va="center")
        ax.text(x0 + n / 2, -0.25, label, ha="center", va="bottom", fontweight="bold")
        half = kept // 2
        ox, oy = x0 + n + 1.2, (kept - half) / 2
        for r in range(half):
            for col in range(half):
                best = max(_POOL_VALUES[2 * r + i][2 * col + j] for i in (0, 1) for j in (0, 1))
                hue = hues[r * 2 % 4 + col % 2]
                d.box(ax, ox + col, oy + r, 1, 1, facecolor=hue, edgecolor=c["fg"], alpha=0.55, lw=0.8)
                ax.text(ox + col + 0.5, oy + r + 0.5, str(best), ha="center", va="center", fontweight="bold")
        d.arrow(ax, (x0 + n + 0.1, oy + half / 2), (ox - 0.1, oy + half / 2), c["fg"])
        ax.text(ox + half / 2, oy - 0.2, f"{half}x{half}", ha="center", va="bottom")

    pooled(0, 4, "even: 4x4 → 2x2")
    pooled(8.8, 5, "odd: 5x5 → ?")
    ax.text(
        8.8 + 2.5, 5.25, "last row and column\nfit no 2x2 window", ha="center", va="top", color=c["drop"], fontsize=11
    )
    ax.text(0 + 2, 4.25, "each 2x2 window keeps\nits largest value", ha="center", va="top", fontsize=11)
    y = d.lines(ax, -1.1, top, text, step)
    d.lines(ax, -1.1, y, error, step, color=c["drop"])
    return fig


def alt(spec: UNetSpec) -> str:
    pools = ", ".join(
        f"{d.size(stage.out_size)} to {d.size(stage.pool_size or (0, 0))}"
        for stage in d.stages(spec, names.CONTRACTING)
    )
    text = (
        "2x2 max-pooling with stride 2 keeps the largest value of each 2x2 window: a 4x4 map pools to 2x2, "
        "while a 5x5 map leaves its last row and column out. "
        f"This network pools {pools}."
    )
    near = _near_invalid_size(spec)
    if near is not None:
        text += f" A tile of {format_size(near[0])} breaks the rule: {near[1]}"
    return text

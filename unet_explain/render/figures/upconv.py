"""The 2x2 up-convolution with stride 2: the size doubles, the channels halve."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from unet_explain.core import names
from unet_explain.render.figures import drawing as d

if TYPE_CHECKING:
    from unet_explain.core.spec import UNetSpec


def draw(spec: UNetSpec, theme: str) -> Any:
    c = d.colours(theme)
    hues = c["hues"].split(",")
    decoders = d.stages(spec, names.EXPANSIVE)
    text = ["This network's up-convolutions (size, channels):"]
    for stage in decoders:
        text.append(
            f"{stage.name}: {d.size(stage.in_size)}, {stage.in_channels} → "
            f"{d.size(stage.up_size or (0, 0))}, {stage.up_channels}"
        )
    x_span, step = 19.0, 0.95
    top, y0 = 6.9, -1.5
    bottom = top + step * len(text) + 0.2
    fig = d.new_figure(theme, d.WIDTH_IN * (bottom - y0) / x_span)
    ax = d.canvas(fig, (-1.3, x_span - 1.3), (y0, bottom))
    letters = "abcd"
    s, iy = 1.2, 1.6
    for k in range(4):
        r, col = divmod(k, 2)
        d.box(ax, col * s, iy + r * s, s, s, facecolor=hues[k], edgecolor=c["fg"], alpha=0.6, lw=1)
        ax.text(col * s + s / 2, iy + r * s + s / 2, letters[k], ha="center", va="center", fontweight="bold")
    ax.text(s, iy - 0.25, "2x2, C channels", ha="center", va="bottom", fontweight="bold")
    ox, q = 5.2, 1.5
    for k in range(4):
        r, col = divmod(k, 2)
        for i in (0, 1):
            for j in (0, 1):
                x, y = ox + (2 * col + j) * q, (2 * r + i) * q
                d.box(ax, x, y, q, q, facecolor=hues[k], edgecolor=c["fg"], alpha=0.3 + 0.12 * (2 * i + j), lw=0.8)
                ax.text(x + q / 2, y + q / 2, f"{letters[k]}·w{i + 1}{j + 1}", ha="center", va="center", fontsize=10)
        d.box(ax, ox + 2 * col * q, 2 * r * q, 2 * q, 2 * q, fill=False, edgecolor=c["fg"], lw=2.2)
    ax.text(ox + 2 * q, -0.25, "4x4, C/2 channels", ha="center", va="bottom", fontweight="bold")
    d.arrow(ax, (2 * s + 0.2, iy + s), (ox - 0.2, iy + s), c["fg"])
    ax.text(
        ox + 4 * q + 0.5,
        0.2,
        "each pixel writes\nits own 2x2 block\n(stride 2: the\nblocks never\noverlap); channels\nhalve: C → C/2",
        va="top",
        fontsize=d.FONT_PT - 1,
        linespacing=1.3,
    )
    d.lines(ax, -1.1, top, text, step)
    return fig


def alt(spec: UNetSpec) -> str:
    steps = "; ".join(
        f"{stage.name} {d.size(stage.in_size)}x{stage.in_channels} to "
        f"{d.size(stage.up_size or (0, 0))}x{stage.up_channels}"
        for stage in d.stages(spec, names.EXPANSIVE)
    )
    return (
        "A 2x2 up-convolution with stride 2: each of the 4 pixels of a 2x2 map writes its own 2x2 block of a 4x4 "
        f"map, and the channels are halved. In this network: {steps}."
    )

"""A 3x3 convolution without padding: the map loses a pixel at each border (paper, section 2)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from unet_explain.core import names
from unet_explain.render.figures import drawing as d

if TYPE_CHECKING:
    from unet_explain.core.spec import UNetSpec


def draw(spec: UNetSpec, theme: str) -> Any:
    c = d.colours(theme)
    valid = spec.config.padding == "valid"
    enc1 = spec.stage(names.encoder(1))
    chain = " → ".join(d.size(s) for s in (enc1.in_size, *enc1.conv_sizes))
    if valid:
        rule = (
            "padding 'valid': a 3x3 window must fit inside the map, so each conv loses 1 px at every border: "
            "the side shrinks by 2."
        )
    else:
        rule = "padding 'same': a 1 px ring of zeros keeps the size; nothing is lost."
    text = [*d.wrap(rule), f"{names.encoder(1)} of this network: {chain}"]
    x_span, step = 19.0, 0.95
    top, y0 = 9.9, -2.2
    bottom = top + step * len(text) + 0.2
    fig = d.new_figure(theme, d.WIDTH_IN * (bottom - y0) / x_span)
    ax = d.canvas(fig, (-1.5, x_span - 1.5), (y0, bottom))

    n = 7
    out = n - 2 if valid else n
    if not valid:  # the zero ring that 'same' padding adds
        d.cells(ax, -1, -1, n + 2, n + 2, face=c["zero"], edge=c["muted"], lw=0.8, ls=(0, (2, 2)))
        for k in range(n + 2):
            for r, col in ((-1, k - 1), (n, k - 1), (k - 1, -1), (k - 1, n)):
                ax.text(col + 0.5, r + 0.5, "0", ha="center", va="center", fontsize=9, color=c["muted"])
    d.cells(ax, 0, 0, n, n, face=c["cell"], edge=c["edge"], lw=1.0)
    wx, wy = (0, 0) if valid else (-1, -1)
    d.box(ax, wx, wy, 3, 3, facecolor=c["accent_fill"], edgecolor=c["accent"], lw=2.6, alpha=0.85)
    ox = 11.0 if valid else 10.3
    oy = (n - out) / 2
    d.cells(ax, ox, oy, out, out, face=c["keep_fill"], edge=c["keep"], lw=1.0)
    d.box(ax, ox, oy, 1, 1, facecolor=c["accent_fill"], edgecolor=c["accent"], lw=2.6)
    d.arrow(ax, (wx + 3.1, wy + 1.5), (ox - 0.1, oy + 0.5), c["accent"], connectionstyle="arc3,rad=-0.25")
    label = f"{n}x{n} map" if valid else f"{n}x{n} map + ring of zeros"
    ax.text(n / 2, -0.25 if valid else -1.25, label, ha="center", va="bottom", fontweight="bold")
    ax.text(ox + out / 2, oy - 0.25, f"{out}x{out} map", ha="center", va="bottom", fontweight="bold")
    ax.text(
        (n + ox) / 2 + 0.3 if valid else ox + out / 2,
        n + 0.35,
        "one 3x3 window\n→ one output pixel",
        ha="center",
        va="top",
        color=c["accent"],
        fontsize=d.FONT_PT - 1,
    )
    d.lines(ax, -1.2, top, text, step)
    return fig


def alt(spec: UNetSpec) -> str:
    enc1 = spec.stage(names.encoder(1))
    chain = " to ".join(d.size(s) for s in (enc1.in_size, *enc1.conv_sizes))
    if spec.config.padding == "valid":
        toy = "A 3x3 window slides over a 7x7 map without padding and fits 5 times per side, giving a 5x5 map."
    else:
        toy = "A 7x7 map padded with a ring of zeros gives a 7x7 map: with 'same' padding the size does not shrink."
    return f"{toy} In this network, enc1's two 3x3 convolutions take {chain}."

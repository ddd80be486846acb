"""Teaching figures for the walkthrough: one picture per idea of the paper, drawn from the spec.

Each figure explains one step of the paper's section 2 on a toy example a
reader can count by eye (a 7x7 map, a 4x4 pooling), and then shows the same
step with the real numbers of the network the site is built for: every number
drawn comes from the :class:`~unet_explain.core.spec.UNetSpec` (or from the
receptive-field analysis and the tile planner that read it), so the figures
stay right for any depth, padding and tile.

Figures are SVG with the text kept as text (``svg.fonttype = 'none'``), so
they scale on a phone and stay searchable; the background is transparent and
the colours come in a ``light`` and a ``dark`` set that read on Material's
default and slate backgrounds. The output is deterministic: no date, and a
fixed hash salt for the SVG's ids.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from unet_explain.config import UNetConfig, format_size
from unet_explain.core import names
from unet_explain.errors import ConfigError

if TYPE_CHECKING:
    from unet_explain.core.spec import Stage, UNetSpec

THEMES = ("light", "dark")
FIGURE_FORMATS = ("svg", "png", "pdf")
WIDTH_IN = 6.4
FONT_PT = 13

#: Colours per theme; both read on a transparent figure over Material's default (white) and slate pages.
PALETTE: dict[str, dict[str, str]] = {
    "light": {
        "fg": "#1f2328",
        "muted": "#59636e",
        "cell": "#e8eaf6",
        "edge": "#7986cb",
        "accent": "#d35400",
        "accent_fill": "#fbd9bf",
        "keep": "#3949ab",
        "keep_fill": "#c5cae9",
        "drop": "#c0392b",
        "drop_fill": "#f5c6c1",
        "second": "#1e8449",
        "second_fill": "#c8ebd5",
        "zero": "#f4f4f4",
        "overlay": "#ffffff",
        "hues": "#3f51b5,#e67e22,#16a085,#8e44ad",
    },
    "dark": {
        "fg": "#e3e6ea",
        "muted": "#a3abb6",
        "cell": "#2b3052",
        "edge": "#7f8fd6",
        "accent": "#ffa64d",
        "accent_fill": "#6b3d12",
        "keep": "#9fa8ff",
        "keep_fill": "#323a78",
        "drop": "#ff8a80",
        "drop_fill": "#5e2722",
        "second": "#6fdc9c",
        "second_fill": "#1f4d33",
        "zero": "#3a3f4b",
        "overlay": "#1e2129",
        "hues": "#8c9eff,#ffb74d,#4dd0b1,#ce93d8",
    },
}


@dataclass(frozen=True)
class LessonFigure:
    """One teaching figure: how to draw it, what it shows in words, and its title."""

    title: str
    """One line naming the idea the figure teaches."""
    alt: Callable[[UNetSpec], str]
    """``spec -> alt text``: the figure's content in one or two sentences, with the config's numbers."""
    draw: Callable[[UNetSpec, str], Any]
    """``(spec, theme) -> matplotlib Figure`` (what ``maker`` renders)."""

    def maker(self, spec: UNetSpec, theme: str) -> bytes:
        """``(spec, theme) -> SVG bytes``; ``theme`` is ``"light"`` or ``"dark"``."""
        return _render(self.draw, spec, theme)

    def __call__(self, spec: UNetSpec, theme: str) -> bytes:
        """The SVG, as ``maker`` draws it: an entry can be called like a plain maker function."""
        return self.maker(spec, theme)


# --- shared helpers ------------------------------------------------------------------------------------------


def _colours(theme: str) -> dict[str, str]:
    if theme not in PALETTE:
        raise ValueError(f"theme must be one of {', '.join(THEMES)}; got {theme!r}")
    return PALETTE[theme]


def _rc(theme: str) -> Any:  # matplotlib types rcParams keys as a Literal; a plain dict is what it takes
    c = _colours(theme)
    return {
        "svg.fonttype": "none",
        "svg.hashsalt": "unet-explain",
        "font.family": "DejaVu Sans",
        "font.size": FONT_PT,
        "text.color": c["fg"],
        "axes.labelcolor": c["fg"],
        "axes.edgecolor": c["muted"],
        "xtick.color": c["fg"],
        "ytick.color": c["fg"],
        "hatch.color": c["drop"],
        "hatch.linewidth": 1.2,
        "path.simplify": False,
    }


def _new_figure(theme: str, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH_IN, height), dpi=100)


def _canvas(fig: Any, x: tuple[float, float], y: tuple[float, float]) -> Any:
    """One axes over the whole figure, in data units with y growing downwards, no frame."""
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(*x)
    ax.set_ylim(y[1], y[0])
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def _render(draw: Callable[[UNetSpec, str], Any], spec: UNetSpec, theme: str, fmt: str = "svg") -> bytes:
    import matplotlib

    with matplotlib.rc_context(_rc(theme)):
        fig = draw(spec, theme)
        buffer = io.BytesIO()
        metadata: dict[str, Any] = {"svg": {"Date": None}, "png": {"Software": None}}.get(fmt, {"CreationDate": None})
        fig.savefig(buffer, format=fmt, transparent=True, metadata=metadata)
    return buffer.getvalue()


def render(name: str, spec: UNetSpec, theme: str = "light", fmt: str = "svg") -> bytes:
    """Render lesson figure ``name`` as ``svg`` (the site's format), ``png`` or ``pdf``."""
    return _render(LESSON_FIGURES[name].draw, spec, theme, fmt)


def _cells(
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
    from matplotlib.patches import Rectangle

    for r in range(rows):
        for c in range(cols):
            ax.add_patch(
                Rectangle((x0 + c * size, y0 + r * size), size, size, facecolor=face, edgecolor=edge, **kwargs)
            )


def _box(ax: Any, x: float, y: float, w: float, h: float, **kwargs: Any) -> None:
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((x, y), w, h, **kwargs))


def _arrow(ax: Any, start: tuple[float, float], end: tuple[float, float], colour: str, **kwargs: Any) -> None:
    ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1.8, **kwargs})


def _size(size: tuple[int, int]) -> str:
    return format_size(size)


def _px(pair: tuple[int, int]) -> str:
    """A per-axis amount: ``"88 px"`` when rows and columns agree, else ``"88 px (rows), 90 px (columns)"``."""
    if pair[0] == pair[1]:
        return f"{pair[0]} px"
    return f"{pair[0]} px (rows), {pair[1]} px (columns)"


def _stages(spec: UNetSpec, path: str) -> list[Stage]:
    return [stage for stage in spec.stages if stage.path == path]


def _wrap(text: str, width: int = 62) -> list[str]:
    return textwrap.wrap(text, width=width, break_on_hyphens=False) or [""]


def _lines(ax: Any, x: float, y: float, lines: list[str], step: float, **kwargs: Any) -> float:
    """Write lines top-down from (x, y); return the y below the last one."""
    for line in lines:
        ax.text(x, y, line, va="top", **kwargs)
        y += step
    return y


# --- 3x3 convolution -----------------------------------------------------------------------------------------


def _conv_draw(spec: UNetSpec, theme: str) -> Any:
    c = _colours(theme)
    valid = spec.config.padding == "valid"
    enc1 = spec.stage(names.encoder(1))
    chain = " → ".join(_size(s) for s in (enc1.in_size, *enc1.conv_sizes))
    if valid:
        rule = (
            "padding 'valid': a 3x3 window must fit inside the map, so each conv loses 1 px at every border: "
            "the side shrinks by 2."
        )
    else:
        rule = "padding 'same': a 1 px ring of zeros keeps the size; nothing is lost."
    text = [*_wrap(rule), f"{names.encoder(1)} of this network: {chain}"]
    x_span, step = 19.0, 0.95
    top, y0 = 9.9, -2.2
    bottom = top + step * len(text) + 0.2
    fig = _new_figure(theme, WIDTH_IN * (bottom - y0) / x_span)
    ax = _canvas(fig, (-1.5, x_span - 1.5), (y0, bottom))

    n = 7
    out = n - 2 if valid else n
    if not valid:  # the zero ring that 'same' padding adds
        _cells(ax, -1, -1, n + 2, n + 2, face=c["zero"], edge=c["muted"], lw=0.8, ls=(0, (2, 2)))
        for k in range(n + 2):
            for r, col in ((-1, k - 1), (n, k - 1), (k - 1, -1), (k - 1, n)):
                ax.text(col + 0.5, r + 0.5, "0", ha="center", va="center", fontsize=9, color=c["muted"])
    _cells(ax, 0, 0, n, n, face=c["cell"], edge=c["edge"], lw=1.0)
    wx, wy = (0, 0) if valid else (-1, -1)
    _box(ax, wx, wy, 3, 3, facecolor=c["accent_fill"], edgecolor=c["accent"], lw=2.6, alpha=0.85)
    ox = 11.0 if valid else 10.3
    oy = (n - out) / 2
    _cells(ax, ox, oy, out, out, face=c["keep_fill"], edge=c["keep"], lw=1.0)
    _box(ax, ox, oy, 1, 1, facecolor=c["accent_fill"], edgecolor=c["accent"], lw=2.6)
    _arrow(ax, (wx + 3.1, wy + 1.5), (ox - 0.1, oy + 0.5), c["accent"], connectionstyle="arc3,rad=-0.25")
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
        fontsize=FONT_PT - 1,
    )
    _lines(ax, -1.2, top, text, step)
    return fig


def _conv_alt(spec: UNetSpec) -> str:
    enc1 = spec.stage(names.encoder(1))
    chain = " to ".join(_size(s) for s in (enc1.in_size, *enc1.conv_sizes))
    if spec.config.padding == "valid":
        toy = "A 3x3 window slides over a 7x7 map without padding and fits 5 times per side, giving a 5x5 map."
    else:
        toy = "A 7x7 map padded with a ring of zeros gives a 7x7 map: with 'same' padding the size does not shrink."
    return f"{toy} In this network, enc1's two 3x3 convolutions take {chain}."


# --- 2x2 max-pooling -----------------------------------------------------------------------------------------

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


def _pool_draw(spec: UNetSpec, theme: str) -> Any:
    c = _colours(theme)
    hues = c["hues"].split(",")
    pools = ", ".join(
        f"{stage.out_size[0]}→{stage.pool_size[0]}"
        if stage.out_size[0] == stage.out_size[1] and stage.pool_size and stage.pool_size[0] == stage.pool_size[1]
        else f"{_size(stage.out_size)}→{_size(stage.pool_size or (0, 0))}"
        for stage in _stages(spec, names.CONTRACTING)
    )
    depth = spec.config.depth
    text = _wrap(f"This network's {depth} pooling{'s' if depth > 1 else ''}, all on even sizes: {pools}.")
    near = _near_invalid_size(spec)
    error: list[str] = []
    if near is not None:
        text += ["", f"A tile of {format_size(near[0])} breaks the rule; in the CLI's words:"]
        error = _wrap(near[1])
    x_span, step = 19.0, 0.95
    top, y0 = 7.6, -1.4
    bottom = top + step * (len(text) + len(error)) + 0.2
    fig = _new_figure(theme, WIDTH_IN * (bottom - y0) / x_span)
    ax = _canvas(fig, (-1.3, x_span - 1.3), (y0, bottom))

    def pooled(x0: float, n: int, label: str) -> None:
        kept = n - n % 2
        for r in range(n):
            for col in range(n):
                inside = r < kept and col < kept
                hue = hues[(r // 2) * 2 % 4 + (col // 2) % 2] if inside else c["drop"]
                _box(
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
                _box(ax, ox + col, oy + r, 1, 1, facecolor=hue, edgecolor=c["fg"], alpha=0.55, lw=0.8)
                ax.text(ox + col + 0.5, oy + r + 0.5, str(best), ha="center", va="center", fontweight="bold")
        _arrow(ax, (x0 + n + 0.1, oy + half / 2), (ox - 0.1, oy + half / 2), c["fg"])
        ax.text(ox + half / 2, oy - 0.2, f"{half}x{half}", ha="center", va="bottom")

    pooled(0, 4, "even: 4x4 → 2x2")
    pooled(8.8, 5, "odd: 5x5 → ?")
    ax.text(
        8.8 + 2.5, 5.25, "last row and column\nfit no 2x2 window", ha="center", va="top", color=c["drop"], fontsize=11
    )
    ax.text(0 + 2, 4.25, "each 2x2 window keeps\nits largest value", ha="center", va="top", fontsize=11)
    y = _lines(ax, -1.1, top, text, step)
    _lines(ax, -1.1, y, error, step, color=c["drop"])
    return fig


def _pool_alt(spec: UNetSpec) -> str:
    pools = ", ".join(
        f"{_size(stage.out_size)} to {_size(stage.pool_size or (0, 0))}" for stage in _stages(spec, names.CONTRACTING)
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


# --- 2x2 up-convolution --------------------------------------------------------------------------------------


def _up_draw(spec: UNetSpec, theme: str) -> Any:
    c = _colours(theme)
    hues = c["hues"].split(",")
    decoders = _stages(spec, names.EXPANSIVE)
    text = ["This network's up-convolutions (size, channels):"]
    for stage in decoders:
        text.append(
            f"{stage.name}: {_size(stage.in_size)}, {stage.in_channels} → "
            f"{_size(stage.up_size or (0, 0))}, {stage.up_channels}"
        )
    x_span, step = 19.0, 0.95
    top, y0 = 6.9, -1.5
    bottom = top + step * len(text) + 0.2
    fig = _new_figure(theme, WIDTH_IN * (bottom - y0) / x_span)
    ax = _canvas(fig, (-1.3, x_span - 1.3), (y0, bottom))
    letters = "abcd"
    s, iy = 1.2, 1.6
    for k in range(4):
        r, col = divmod(k, 2)
        _box(ax, col * s, iy + r * s, s, s, facecolor=hues[k], edgecolor=c["fg"], alpha=0.6, lw=1)
        ax.text(col * s + s / 2, iy + r * s + s / 2, letters[k], ha="center", va="center", fontweight="bold")
    ax.text(s, iy - 0.25, "2x2, C channels", ha="center", va="bottom", fontweight="bold")
    ox, q = 5.2, 1.5
    for k in range(4):
        r, col = divmod(k, 2)
        for i in (0, 1):
            for j in (0, 1):
                x, y = ox + (2 * col + j) * q, (2 * r + i) * q
                _box(ax, x, y, q, q, facecolor=hues[k], edgecolor=c["fg"], alpha=0.3 + 0.12 * (2 * i + j), lw=0.8)
                ax.text(x + q / 2, y + q / 2, f"{letters[k]}·w{i + 1}{j + 1}", ha="center", va="center", fontsize=10)
        _box(ax, ox + 2 * col * q, 2 * r * q, 2 * q, 2 * q, fill=False, edgecolor=c["fg"], lw=2.2)
    ax.text(ox + 2 * q, -0.25, "4x4, C/2 channels", ha="center", va="bottom", fontweight="bold")
    _arrow(ax, (2 * s + 0.2, iy + s), (ox - 0.2, iy + s), c["fg"])
    ax.text(
        ox + 4 * q + 0.5,
        0.2,
        "each pixel writes\nits own 2x2 block\n(stride 2: the\nblocks never\noverlap); channels\nhalve: C → C/2",
        va="top",
        fontsize=FONT_PT - 1,
        linespacing=1.3,
    )
    _lines(ax, -1.1, top, text, step)
    return fig


def _up_alt(spec: UNetSpec) -> str:
    steps = "; ".join(
        f"{stage.name} {_size(stage.in_size)}x{stage.in_channels} to "
        f"{_size(stage.up_size or (0, 0))}x{stage.up_channels}"
        for stage in _stages(spec, names.EXPANSIVE)
    )
    return (
        "A 2x2 up-convolution with stride 2: each of the 4 pixels of a 2x2 map writes its own 2x2 block of a 4x4 "
        f"map, and the channels are halved. In this network: {steps}."
    )


# --- copy and crop -------------------------------------------------------------------------------------------


def _crop_draw(spec: UNetSpec, theme: str) -> Any:
    c = _colours(theme)
    decoders = _stages(spec, names.EXPANSIVE)
    dec1 = spec.stage(names.decoder(1))
    skip, up, crop = dec1.skip_size or (0, 0), dec1.up_size or (0, 0), dec1.crop or (0, 0)
    lines = ["Every level: copy → kept"]
    for stage in decoders:
        level_crop = stage.crop or (0, 0)
        lines.append(f"{stage.name}: {_size(stage.skip_size or (0, 0))} → {_size(stage.up_size or (0, 0))}")
        lines[-1] += f" (crop {level_crop[0]})" if level_crop[0] == level_crop[1] else ""
        if level_crop[0] != level_crop[1]:
            lines.append(f"     crop {level_crop[0]} rows, {level_crop[1]} columns")
    rule = "crop per side = (copy − up-sampled) / 2: the convolutions since the copy lost that border."
    if spec.config.padding == "same":
        rule = "padding 'same': no convolution loses a border, so the copy already has the up-sampled size: 0 px crop."
    rule_lines = _wrap(rule, 66)
    body = max(1.3 + 5.8 + 1.4, 0.35 + 0.62 * len(lines) + 0.3)
    total = body + 0.6 * len(rule_lines) + 0.2
    fig = _new_figure(theme, WIDTH_IN * total / 16.0)
    ax = _canvas(fig, (0, 16.0), (0, total))
    # The box in box, to scale: the copied map and the part of it the decoder keeps.
    side = 5.8
    scale = side / max(skip)
    x0, y0 = 0.6, 1.3
    bw, bh = skip[1] * scale, skip[0] * scale
    kx, ky = x0 + crop[1] * scale, y0 + crop[0] * scale
    _box(ax, x0, y0, bw, bh, facecolor=c["drop_fill"], edgecolor=c["drop"], lw=2, hatch="//")
    _box(ax, kx, ky, up[1] * scale, up[0] * scale, facecolor=c["keep_fill"], edgecolor=c["keep"], lw=2.4)
    ax.text(x0 + bw / 2, y0 - 0.15, f"copy of {dec1.skip_from}: {_size(skip)}", ha="center", va="bottom")
    ax.text(
        kx + up[1] * scale / 2,
        ky + up[0] * scale / 2,
        f"kept:\n{_size(up)}\n(up-sampled\nsize)",
        ha="center",
        va="center",
        fontweight="bold",
        color=c["keep"],
        bbox={"facecolor": c["keep_fill"], "edgecolor": "none", "alpha": 0.85, "boxstyle": "round,pad=0.2"},
    )
    ym = y0 + bh + 0.35
    if crop[1] > 0:
        ax.annotate("", xy=(kx, ym), xytext=(x0, ym), arrowprops={"arrowstyle": "<->", "color": c["drop"], "lw": 1.8})
    ax.text(
        kx + 0.2 if crop[1] else x0,
        ym,
        f"{_px(crop)} per side cropped",
        ha="left",
        va="center",
        color=c["drop"],
        fontweight="bold",
    )
    _lines(ax, 6.9, 0.35, lines, 0.62, fontsize=FONT_PT - 1)
    _lines(ax, 0.2, body, rule_lines, 0.6, fontsize=FONT_PT - 1, color=c["muted"])
    return fig


def _crop_alt(spec: UNetSpec) -> str:
    dec1 = spec.stage(names.decoder(1))
    crop = dec1.crop or (0, 0)
    levels = "; ".join(
        f"{stage.name} {_size(stage.skip_size or (0, 0))} to {_size(stage.up_size or (0, 0))}, "
        f"{_px(stage.crop or (0, 0))} per side"
        for stage in _stages(spec, names.EXPANSIVE)
    )
    return (
        f"Copy and crop as a box in a box: the {_size(dec1.skip_size or (0, 0))} map copied from "
        f"{dec1.skip_from}, with the centre {_size(dec1.up_size or (0, 0))} that dec1 keeps and a border of "
        f"{_px(crop)} on each side cropped away. Every level: {levels}."
    )


# --- overlap tiles -------------------------------------------------------------------------------------------


def _soft_box(yy: Any, xx: Any, box: tuple[float, float, float, float], soft: float) -> Any:
    """1 inside ``(top, bottom, left, right)``, 0 outside, with a ramp ``soft`` px wide (no jagged edges)."""
    import numpy as np

    top, bottom, left, right = box
    inside = np.minimum(np.minimum(yy - top, bottom - yy), np.minimum(xx - left, right - xx))
    return np.clip(inside / soft + 0.5, 0.0, 1.0)


def _texture(height: int, width: int, margin: int, soft: float = 1.0, step: int = 1) -> Any:
    """A deterministic image of round 'cells' on a gradient, with an "F" near the left edge.

    The "F" sits within ``margin`` px of the left edge (when there is a margin), so the mirrored border shows
    it whole and flipped; its edges ramp over ``soft`` px so that a shrunken picture stays smooth. With
    ``step`` > 1 the image is sampled at every ``step``-th pixel only (the picture shows it shrunk anyway),
    so a tile of any size costs the same to draw.
    """
    import numpy as np

    rng = np.random.default_rng(2015)
    yy, xx = (np.mgrid[0:height:step, 0:width:step] + (step - 1) / 2).astype(float)
    img = 0.25 + 0.25 * xx / max(width - 1, 1) + 0.1 * yy / max(height - 1, 1)
    radius = max(min(height, width) / 14, 2.0)
    count = max(int(height * width / (radius * radius * 9)), 6)
    for cy, cx, k in zip(
        rng.uniform(0, height, count), rng.uniform(0, width, count), rng.uniform(0.6, 1.4, count), strict=True
    ):
        r = radius * k
        img += 0.55 * np.exp(-((((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (r / 2) ** 2)) ** 2))
    # The "F": a stem and two arms pointing right, so that its reflection points left.
    f_w = 0.7 * margin if margin > 0 else 0.12 * width
    f_w = max(min(f_w, 0.25 * width), 3.0)
    f_h = min(1.5 * f_w, 0.6 * height)
    x0 = 0.12 * margin if margin > 0 else 0.05 * width
    y0 = (height - f_h) / 2
    bar = max(f_w * 0.28, 1.0)
    letter = np.maximum.reduce(
        [
            _soft_box(yy, xx, (y0, y0 + f_h, x0, x0 + bar), soft),
            _soft_box(yy, xx, (y0, y0 + bar, x0, x0 + f_w), soft),
            _soft_box(yy, xx, (y0 + 0.42 * f_h, y0 + 0.42 * f_h + bar, x0, x0 + 0.7 * f_w), soft),
        ]
    )
    img = img * (1 - letter) + 1.35 * letter
    return np.clip(img, 0, 1.4)


def _tiles_plan(spec: UNetSpec) -> Any:
    from unet_explain.core.arithmetic import MAX_SIDE
    from unet_explain.core.tiling import plan_tiles

    out = spec.totals.output_size
    # Two output tiles side by side, within the largest image the planner takes (a huge tile still gets a
    # second, narrower tile beside it).
    return plan_tiles((max(out[0], 2), min(max(2 * out[1], 2), MAX_SIDE)), spec)


def _tiles_draw(spec: UNetSpec, theme: str) -> Any:
    import numpy as np

    c = _colours(theme)
    plan = _tiles_plan(spec)
    (nh, nw), (mh, mw) = plan.input_tile, plan.output_tile
    top, left = plan.pad_before
    h, w = plan.image_size
    bottom, right = plan.pad_after
    (o1r, o1c), (o2r, o2c) = plan.input_origins()[:2]
    overlap = nw - (o2c - o1c)
    ph, pw = h + top + bottom, w + left + right
    # Shrink by averaging stride x stride blocks (not by skipping pixels), drawn with bilinear interpolation.
    stride = max(1, int(np.ceil(max(ph, pw) / 320)))
    if stride <= 4:
        image = _texture(h, w, plan.margin[1], soft=float(stride))
        padded = np.pad(image, ((top, bottom), (left, right)), mode="reflect")
        bh, bw = ph // stride, pw // stride
        shown = padded[: bh * stride, : bw * stride].reshape(bh, stride, bw, stride).mean(axis=(1, 3))
    else:
        # A large tile: sample the image on the display grid (about 320 px across) and mirror it there,
        # so that memory and time stay bounded whatever the tile (a full-size image of a 20000 px tile
        # would need tens of GiB).
        image = _texture(h, w, plan.margin[1], soft=float(stride), step=stride)

        def cells(n: int) -> int:
            return int(min(round(n / stride), image.shape[0] - 1, image.shape[1] - 1))

        shown = np.pad(image, ((cells(top), cells(bottom)), (cells(left), cells(right))), mode="reflect")
        bh, bw = shown.shape

    same = spec.config.padding == "same"
    if same or overlap <= 0:
        text = _wrap(
            f"padding '{spec.config.padding}': the output tile is the input tile ({_size(plan.input_tile)}), so tiles "
            f"only abut (overlap {overlap} px) and no mirrored context is needed; the zero padding gives border "
            "pixels less context instead."
        )
    else:
        text = [
            f"input tiles {_size(plan.input_tile)} → output tiles {_size(plan.output_tile)}",
            f"neighbours overlap by {overlap} px = 2 x {plan.margin[1]} px of context",
            f"outside the image: {plan.margin[1]} px mirrored from it, so edge pixels get context too",
            'the "F" near the left edge appears flipped in the mirrored border: a mirror, not new content',
        ]
        text = [line for raw in text for line in _wrap(raw, 66)]
    img_w_in = WIDTH_IN * 0.94
    img_h_in = img_w_in * ph / pw
    head_in, text_in = 0.42, 0.3 * len(text) + 0.55
    height = head_in + img_h_in + text_in
    fig = _new_figure(theme, height)
    ax = fig.add_axes((0.03, text_in / height, 0.94, img_h_in / height))
    ax.imshow(shown, cmap="gray", extent=(0, bw * stride, bh * stride, 0), interpolation="bilinear", vmin=0, vmax=1.4)
    ax.set_xlim(0, pw)
    ax.set_ylim(ph, 0)
    ax.axis("off")
    # Veil the mirrored border a little, keeping its texture visible.
    for x, y, bw, bh in ((0, 0, pw, top), (0, top + h, pw, bottom), (0, top, left, h), (left + w, top, right, h)):
        if bw > 0 and bh > 0:
            _box(ax, x, y, bw, bh, facecolor=c["overlay"], alpha=0.4, lw=0)
    t1, t2 = c["drop"], c["keep"]
    if overlap > 0:
        _box(ax, o2c, o2r, overlap, nh, facecolor=c["accent"], alpha=0.35, lw=0)
    _box(ax, o1c + left, o1r + top, mw, mh, fill=False, edgecolor=t1, lw=1.6, ls=(0, (1.5, 2)))
    _box(ax, o2c + left, o2r + top, mw, mh, fill=False, edgecolor=t2, lw=1.6, ls=(0, (1.5, 2)))
    _box(ax, left, top, w, h, fill=False, edgecolor=c["second"], lw=2.4)
    _box(ax, o1c, o1r, nw, nh, fill=False, edgecolor=t1, lw=3)
    _box(ax, o2c, o2r, nw, nh, fill=False, edgecolor=t2, lw=3)
    ax.text(o1c, -ph * 0.02, f"input tile 1: {_size(plan.input_tile)}", color=t1, fontweight="bold", va="bottom")
    ax.text(o2c + nw, -ph * 0.02, "input tile 2", color=t2, fontweight="bold", va="bottom", ha="right")
    if overlap > 0:
        ax.annotate(
            "",
            xy=(o2c + overlap, ph * 0.5),
            xytext=(o2c, ph * 0.5),
            arrowprops={"arrowstyle": "<->", "color": c["fg"], "lw": 2},
        )
        ax.text(
            o2c + overlap / 2,
            ph * 0.47,
            f"{overlap} px",
            ha="center",
            va="bottom",
            fontweight="bold",
            color=c["fg"],
            bbox={"facecolor": c["overlay"], "edgecolor": "none", "alpha": 0.8, "boxstyle": "round,pad=0.15"},
        )
    if left > 0:
        ax.text(
            left / 2,
            top + h * 0.84,
            "mirrored",
            ha="center",
            va="center",
            rotation=90,
            fontsize=11,
            color=c["fg"],
            bbox={"facecolor": c["overlay"], "edgecolor": "none", "alpha": 0.8, "boxstyle": "round,pad=0.15"},
        )
    fig.text(0.03, (text_in - 0.45) / height, "\n".join(text), va="top", ha="left", linespacing=1.35)
    fig.text(
        0.97,
        (text_in - 0.08) / height,
        "green: the image's edge · dotted: output tiles",
        va="top",
        ha="right",
        fontsize=11,
        color=c["muted"],
    )
    return fig


def _tiles_alt(spec: UNetSpec) -> str:
    plan = _tiles_plan(spec)
    (o1, o2) = plan.input_origins()[:2]
    overlap = plan.input_tile[1] - (o2[1] - o1[1])
    return (
        f"Two neighbouring {_size(plan.input_tile)} input tiles over a {_size(plan.image_size)} image, each labelling "
        f"a {_size(plan.output_tile)} output tile; they overlap by {overlap} px, twice the {plan.margin[1]} px context "
        f"margin, and the image is mirrored by {plan.margin[1]} px beyond its edge"
        + (': an "F" near the left edge appears flipped in the mirrored border.' if plan.margin[1] else ".")
    )


# --- receptive field -----------------------------------------------------------------------------------------


def _field_rows(spec: UNetSpec) -> tuple[list[int], list[int], list[int]]:
    """Per output position along a row (the columns axis): field size, reach before, reach after."""
    from unet_explain.core.receptive_field import propagate

    axis = 1
    maps = propagate(spec.stages, spec.config.input_size[axis], axis, spec.config.padding)
    lo, hi = maps[names.layer(names.OUTPUT, "conv")]
    margin = spec.totals.context_margin[axis]
    sizes = [b - a + 1 for a, b in zip(lo, hi, strict=True)]
    before = [p + margin - a for p, a in enumerate(lo)]
    after = [b - (p + margin) for p, b in enumerate(hi)]
    return sizes, before, after


def _field_draw(spec: UNetSpec, theme: str) -> Any:
    from unet_explain.core.receptive_field import analyse

    c = _colours(theme)
    report = analyse(spec)
    sizes, before, after = _field_rows(spec)
    margin = spec.totals.context_margin[1]
    side = spec.config.input_size[1]
    xs = list(range(len(sizes)))
    counts = report.cols.sizes
    lo_size, hi_size = min(counts), max(counts)
    fig = _new_figure(theme, 6.6)
    top_ax = fig.add_axes((0.14, 0.6, 0.83, 0.26))
    low_ax = fig.add_axes((0.02, 0.09, 0.96, 0.36))
    top_ax.set_facecolor("none")
    for spine in ("top", "right"):
        top_ax.spines[spine].set_visible(False)
    top_ax.step(xs, sizes, where="mid", color=c["keep"], lw=1.6)
    span = max(hi_size - lo_size, 1)
    top_ax.set_ylim(lo_size - 0.4 * span - 2, hi_size + 0.9 * span + 2)
    top_ax.set_xlim(-0.5, len(sizes) - 0.5)
    top_ax.axhline(report.textbook, color=c["muted"], lw=1.2, ls=(0, (4, 3)))
    top_ax.text(
        0.99,
        0.98,
        f"dashed: the textbook recursion's {report.textbook} px",
        transform=top_ax.transAxes,
        ha="right",
        va="top",
        color=c["muted"],
        fontsize=11,
    )
    top_ax.set_ylabel("field (px)")
    top_ax.set_xlabel(f"output pixel along a row (0 … {len(sizes) - 1})", fontsize=11)
    title = f"{lo_size}–{hi_size} px" if lo_size != hi_size else f"{lo_size} px"
    fig.text(0.02, 0.985, f"The field of each output pixel: {title}", va="top", fontweight="bold")
    detail = (
        ", ".join(f"{n} pixels see {size} px" for size, n in counts.items())
        if len(counts) <= 3
        else f"{len(counts)} different sizes, {lo_size} to {hi_size} px"
    )
    detail += " (it depends on the position)" if len(counts) > 1 else " (the same for every pixel)"
    fig.text(0.02, 0.935, detail, va="top", fontsize=11, color=c["muted"])

    # Below: the input row, the part the output covers, and the fields of two output pixels.
    widest = sizes.index(hi_size)
    low_ax.set_xlim(-0.02 * side, side * 1.02)
    low_ax.set_ylim(3.9, -1.0)
    low_ax.axis("off")
    _box(low_ax, 0, 0, side, 0.55, facecolor=c["cell"], edgecolor=c["edge"], lw=1)
    _box(low_ax, margin, 0, side - 2 * margin, 0.55, facecolor=c["keep_fill"], edgecolor=c["keep"], lw=1.5)
    for x in (0, side - margin):
        if margin:
            _box(low_ax, x, 0, margin, 0.55, facecolor=c["drop_fill"], edgecolor=c["drop"], lw=1.2, hatch="//")
    low_ax.text(0, -0.12, f"input row: {side} px", va="bottom", fontsize=11)
    low_ax.text(side / 2, 0.28, f"covered by the output: {side - 2 * margin} px", ha="center", va="center", fontsize=11)
    low_ax.text(
        side,
        -0.12,
        f"context margin: {margin} px each side",
        ha="right",
        va="bottom",
        color=c["drop"],
        fontsize=11,
        fontweight="bold",
    )
    shown = [(0, c["accent"], "first output pixel")] + ([(widest, c["second"], "")] if widest else [])
    for row, (p, colour, what) in enumerate(shown, 1):
        lo = p + margin - before[p]
        y = 0.6 + row * 1.35
        _box(low_ax, lo, y, sizes[p], 0.45, facecolor=colour, alpha=0.45, edgecolor=colour, lw=1.5)
        low_ax.plot([p + margin + 0.5] * 2, [y - 0.1, y + 0.55], color=c["fg"], lw=2.2)
        name = what or f"output pixel {p}"
        low_ax.text(
            lo,
            y - 0.12,
            f"{name}: field {sizes[p]} px, {before[p]} left + 1 + {after[p]} right",
            va="bottom",
            fontsize=11,
            color=c["fg"],
        )
    note = "tick: the pixel itself. The margin is what the first pixel's field needs on its left."
    if margin == 0:
        note = "tick: the pixel itself. No margin: zero padding cuts the fields of pixels near the edge."
    fig.text(
        0.02,
        0.02,
        note,
        fontsize=11,
        color=c["muted"],
    )
    return fig


def _field_alt(spec: UNetSpec) -> str:
    from unet_explain.core.receptive_field import analyse

    report = analyse(spec)
    counts = ", ".join(f"{n} pixels see {size} px" for size, n in report.cols.sizes.items())
    _, before, after = _field_rows(spec)
    return (
        f"The receptive field of each output pixel along a row: {counts} (the textbook recursion says "
        f"{report.textbook}). Below, how far each field reaches to the left and right (up to {max(before)} and "
        f"{max(after)} px) next to the context margin of {spec.totals.context_margin[1]} px."
    )


# --- the side length through every layer ---------------------------------------------------------------------


def _side_steps(spec: UNetSpec) -> list[tuple[str, str, tuple[int, int]]]:
    """``(stage, kind, size)`` after every size-changing step, from the input tile to the output map.

    ``kind`` is ``input``, ``conv``, ``pool``, ``up`` or ``output``.
    """
    steps: list[tuple[str, str, tuple[int, int]]] = [("input", "input", spec.config.input_size)]
    for stage in spec.stages:
        if stage.path == names.OUTPUT:
            steps.append((stage.name, "output", stage.out_size))
            continue
        if stage.up_size is not None:
            steps.append((stage.name, "up", stage.up_size))
        steps += [(stage.name, "conv", size) for size in stage.conv_sizes]
        if stage.pool_size is not None:
            steps.append((stage.name, "pool", stage.pool_size))
    return steps


_MARKERS = {"input": "s", "conv": "o", "pool": "v", "up": "^", "output": "D"}


def _trace_draw(spec: UNetSpec, theme: str) -> Any:
    c = _colours(theme)
    steps = _side_steps(spec)
    rows = [size[0] for _, _, size in steps]
    cols = [size[1] for _, _, size in steps]
    square = rows == cols
    bottom = spec.stage(names.BOTTLENECK)
    out = spec.totals.output_size
    fig = _new_figure(theme, 5.4)
    ax = fig.add_axes((0.13, 0.28, 0.84, 0.53))
    xs = list(range(len(steps)))
    series = [(rows, c["keep"], "side" if square else "rows")]
    if not square:
        series.append((cols, c["accent"], "columns"))
    for values, colour, label in series:
        ax.plot(xs, values, color=colour, lw=2.2, label=label, zorder=2)
        for kind, marker in _MARKERS.items():
            picked = [(x, v) for x, v, (_, k, _) in zip(xs, values, steps, strict=True) if k == kind]
            if picked:
                px, pv = zip(*picked, strict=True)
                ax.scatter(px, pv, marker=marker, s=46, color=colour, edgecolor=c["fg"], linewidth=0.6, zorder=3)
    if not square:
        ax.legend(loc="upper center", ncols=2, frameon=False, fontsize=11, handlelength=1.5)
    top_value = max(max(rows), max(cols))
    ax.set_ylim(0, top_value * 1.22)
    ax.set_xlim(-0.8, len(steps) - 0.2)
    ax.set_ylabel("side (px)")
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(axis="x", bottom=False, labelbottom=False)
    # The stages under their steps, with the size each one ends at.
    spans: dict[str, list[int]] = {}
    for x, (name, _, _) in enumerate(steps):
        spans.setdefault(name, []).append(x)
    for k, (name, where) in enumerate(spans.items()):
        mid = (where[0] + where[-1]) / 2
        if k % 2:
            ax.axvspan(where[0] - 0.5, where[-1] + 0.5, color=c["cell"], alpha=0.55, lw=0, zorder=0)
        ax.text(
            mid,
            -0.03,
            name,
            transform=ax.get_xaxis_transform(),
            ha="right",
            va="top",
            fontsize=11 if len(spans) <= 12 else 9.5,
            rotation=40,
            rotation_mode="anchor",
        )
        if name in ("input", names.OUTPUT):
            continue  # both are in the title
        end = spec.stage(name).out_size
        ax.text(
            mid,
            max(end) + top_value * 0.05,
            str(end[0]) if square else f"{end[0]}\n{end[1]}",
            ha="center",
            va="bottom",
            fontsize=11 if len(spans) <= 12 else 8.5,
            color=c["fg"],
            linespacing=1.0,
            fontweight="bold" if name == names.BOTTLENECK else "normal",
        )
    title = f"{_size(spec.config.input_size)} → {_size(bottom.out_size)} → {_size(out)}"
    fig.text(0.02, 0.975, f"Side length, layer by layer: {title}", va="top", fontweight="bold", fontsize=FONT_PT)
    if spec.config.padding == "valid":
        (ih, iw), (oh, ow) = spec.config.input_size, out
        lost = f"lost on the way: {_px((ih - oh, iw - ow))}"
        note = f"{lost} = 2 x the context margin of {_px(spec.totals.context_margin)}"
    else:
        note = "padding 'same': convolutions keep the size; only pooling and up-convolution change it"
    fig.text(0.02, 0.9, "\n".join(_wrap(note, 70)), va="top", fontsize=11, color=c["muted"])
    legend = "■ input  ● 3x3 conv  ▼ 2x2 max-pool  ▲ 2x2 up-conv  ◆ output; numbers: each stage's output size"
    if not square:
        legend = legend.replace("numbers:", "numbers (rows over columns):")
    fig.text(0.02, 0.03, "\n".join(_wrap(legend, 66)), va="bottom", fontsize=11, color=c["muted"])
    return fig


def _trace_alt(spec: UNetSpec) -> str:
    steps = _side_steps(spec)
    path = " → ".join(str(size[1]) for _, _, size in steps)
    rows = " → ".join(str(size[0]) for _, _, size in steps)
    text = f"The side length after every layer, a U-shaped line: {path}"
    if rows != path:
        text = f"The rows after every layer: {rows}; the columns: {path}"
    return f"{text}. It is smallest in the bottleneck ({_size(spec.stage(names.BOTTLENECK).out_size)})."


# --- map size against channels, level by level ---------------------------------------------------------------


def _levels_draw(spec: UNetSpec, theme: str) -> Any:
    c = _colours(theme)
    stages = [s for s in spec.stages if s.path in (names.CONTRACTING, names.BOTTLENECK)]
    sides = [s.out_size for s in stages]
    chans = [s.channels for s in stages]
    n = len(stages)
    height = 1.05 + 0.48 * n + 0.75
    fig = _new_figure(theme, height)
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
        _box(ax, -gap - wl, y - 0.32, wl, 0.64, facecolor=face, edgecolor=edge, lw=1.4)
        ax.text(-gap - wl - 0.02, y, _size(side), ha="right", va="center", fontsize=11)
        wr = reach * ch / max_ch
        _box(ax, gap, y - 0.32, wr, 0.64, facecolor=face, edgecolor=edge, lw=1.4)
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
            _wrap(
                f"the bottleneck: the smallest map ({_size(bottom.out_size)}) "
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
            _wrap(
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


def _levels_alt(spec: UNetSpec) -> str:
    stages = [s for s in spec.stages if s.path in (names.CONTRACTING, names.BOTTLENECK)]
    rows = "; ".join(f"{s.name} {_size(s.out_size)} with {s.channels} channels" for s in stages)
    return (
        f"Map size against channels at every level of the contracting path and the bottleneck: {rows}. The "
        f"bottleneck has the smallest map and the most channels, and {spec.stage(names.BOTTLENECK).params:,} of "
        f"the {spec.totals.params:,} parameters."
    )


# --- parameters, compute and memory per stage ----------------------------------------------------------------


def _short(n: float) -> str:
    """``14157824`` -> ``"14.2M"``: three significant figures, for a bar's label."""
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= factor:
            value = n / factor
            return f"{value:.3g}{prefix}"
    return f"{n:g}"


def _costs_draw(spec: UNetSpec, theme: str) -> Any:
    from unet_explain.render.formatting import count, megabytes, si

    c = _colours(theme)
    hues = c["hues"].split(",")
    colour = {names.CONTRACTING: hues[0], names.BOTTLENECK: hues[1], names.EXPANSIVE: hues[2], names.OUTPUT: hues[3]}
    stages = list(spec.stages)
    totals = spec.totals
    panels = [
        ("parameters", [s.params for s in stages], f"parameters: {count(totals.params)} in all", _short),
        ("MACs", [s.macs for s in stages], f"multiply-accumulates per tile: {si(totals.macs)}", _short),
        (
            "memory",
            [s.activation_bytes for s in stages],
            f"activation memory per tile: {megabytes(totals.activation_bytes)} (bars in MB)",
            lambda b: f"{b / 1e6:.3g}",
        ),
    ]
    n = len(stages)
    panel_h = 1.75
    height = 0.55 + 3 * (panel_h + 0.45) + 0.75
    fig = _new_figure(theme, height)
    small = 9 if n > 12 else 11
    xs = list(range(n))
    for k, (_, values, heading, fmt) in enumerate(panels):
        y0 = height - 0.55 - (k + 1) * (panel_h + 0.45) + 0.05
        ax = fig.add_axes((0.03, y0 / height, 0.94, panel_h / height))
        bars = ax.bar(xs, values, color=[colour[s.path] for s in stages], width=0.72, alpha=0.85)
        for bar, value in zip(bars, values, strict=True):
            ax.text(
                bar.get_x() + bar.get_width() / 2,
                value,
                fmt(value),
                ha="center",
                va="bottom",
                fontsize=small,
                rotation=90 if n > 12 else 0,
            )
        ax.set_ylim(0, max(values) * (1.45 if n > 12 else 1.25))
        ax.set_xlim(-0.6, n - 0.4)
        ax.set_yticks([])
        ax.spines[["top", "right", "left"]].set_visible(False)
        ax.set_title(heading, loc="left", fontsize=11.5, pad=3)
        ax.set_xticks(xs)
        if k == 2:
            ax.set_xticklabels(
                ["bottle-\nneck" if s.name == names.BOTTLENECK and n <= 12 else s.name for s in stages],
                fontsize=small,
                rotation=45 if n > 12 else 0,
                ha="right" if n > 12 else "center",
                rotation_mode="anchor",
            )
        else:
            ax.tick_params(axis="x", labelbottom=False)
    fig.text(
        0.02,
        1 - 0.08 / height,
        "Where the network spends its weights, compute and memory",
        va="top",
        fontweight="bold",
        fontsize=FONT_PT - 0.5,
    )
    fig.text(
        0.02,
        0.06 / height,
        "linear scales; the colours: contracting, bottleneck, expansive, output",
        va="bottom",
        fontsize=11,
        color=c["muted"],
    )
    return fig


def _costs_alt(spec: UNetSpec) -> str:
    from unet_explain.render.formatting import count, megabytes, si

    most = max(spec.stages, key=lambda s: s.params)
    busiest = max(spec.stages, key=lambda s: s.macs)
    fullest = max(spec.stages, key=lambda s: s.activation_bytes)
    return (
        f"Bar charts per stage of parameters ({count(spec.totals.params)} in all, most in {most.name}), "
        f"multiply-accumulates per tile ({si(spec.totals.macs)}, most in {busiest.name}) and activation memory per "
        f"tile ({megabytes(spec.totals.activation_bytes)}, most in {fullest.name})."
    )


LESSON_FIGURES: dict[str, LessonFigure] = {
    "conv3x3": LessonFigure(
        "A 3x3 convolution without padding loses a pixel at each border",
        _conv_alt,
        _conv_draw,
    ),
    "pooling": LessonFigure(
        "2x2 max-pooling needs an even size",
        _pool_alt,
        _pool_draw,
    ),
    "upconv": LessonFigure(
        "A 2x2 up-convolution with stride 2 doubles the size and halves the channels",
        _up_alt,
        _up_draw,
    ),
    "copy_crop": LessonFigure(
        "Copy and crop: the copied map's border is cut to the up-sampled size",
        _crop_alt,
        _crop_draw,
    ),
    "tiles": LessonFigure(
        "Neighbouring tiles overlap by twice the context margin; the image edge is mirrored",
        _tiles_alt,
        _tiles_draw,
    ),
    "receptive_field": LessonFigure(
        "The receptive field depends on the pixel's position; its reach against the context margin",
        _field_alt,
        _field_draw,
    ),
    "side_trace": LessonFigure(
        "The side length through every layer: down to the bottleneck and up to the output",
        _trace_alt,
        _trace_draw,
    ),
    "levels": LessonFigure(
        "Down the U the map shrinks and the channels grow; the bottleneck has the smallest map and the most channels",
        _levels_alt,
        _levels_draw,
    ),
    "costs": LessonFigure(
        "Parameters, multiply-accumulates and activation memory per stage",
        _costs_alt,
        _costs_draw,
    ),
}

#: Each figure's title, by name: a short alt text where the spec is not at hand (``LessonFigure.alt`` has the numbers).
ALT: dict[str, str] = {name: figure.title for name, figure in LESSON_FIGURES.items()}

__all__ = ["ALT", "FIGURE_FORMATS", "LESSON_FIGURES", "THEMES", "LessonFigure", "render"]

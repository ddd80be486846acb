"""The receptive field depends on the pixel's position; its reach against the context margin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from unet_explain.core import names
from unet_explain.render.figures import drawing as d

if TYPE_CHECKING:
    from unet_explain.core.spec import UNetSpec


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


def draw(spec: UNetSpec, theme: str) -> Any:
    from unet_explain.core.receptive_field import analyse

    c = d.colours(theme)
    report = analyse(spec)
    sizes, before, after = _field_rows(spec)
    margin = spec.totals.context_margin[1]
    side = spec.config.input_size[1]
    xs = list(range(len(sizes)))
    counts = report.cols.sizes
    lo_size, hi_size = min(counts), max(counts)
    fig = d.new_figure(theme, 6.6)
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
    d.box(low_ax, 0, 0, side, 0.55, facecolor=c["cell"], edgecolor=c["edge"], lw=1)
    d.box(low_ax, margin, 0, side - 2 * margin, 0.55, facecolor=c["keep_fill"], edgecolor=c["keep"], lw=1.5)
    for x in (0, side - margin):
        if margin:
            d.box(low_ax, x, 0, margin, 0.55, facecolor=c["drop_fill"], edgecolor=c["drop"], lw=1.2, hatch="//")
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
        d.box(low_ax, lo, y, sizes[p], 0.45, facecolor=colour, alpha=0.45, edgecolor=colour, lw=1.5)
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


def alt(spec: UNetSpec) -> str:
    from unet_explain.core.receptive_field import analyse

    report = analyse(spec)
    counts = ", ".join(f"{n} pixels see {size} px" for size, n in report.cols.sizes.items())
    _, before, after = _field_rows(spec)
    return (
        f"The receptive field of each output pixel along a row: {counts} (the textbook recursion says "
        f"{report.textbook}). Below, how far each field reaches to the left and right (up to {max(before)} and "
        f"{max(after)} px) next to the context margin of {spec.totals.context_margin[1]} px."
    )

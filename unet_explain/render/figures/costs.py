"""Parameters, multiply-accumulates and activation memory per stage, as bars."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from unet_explain.core import names
from unet_explain.render.figures import drawing as d

if TYPE_CHECKING:
    from unet_explain.core.spec import UNetSpec


def _short(n: float) -> str:
    """``14157824`` -> ``"14.2M"``: three significant figures, for a bar's label."""
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= factor:
            value = n / factor
            return f"{value:.3g}{prefix}"
    return f"{n:g}"


def draw(spec: UNetSpec, theme: str) -> Any:
    from unet_explain.render.formatting import count, megabytes, si

    c = d.colours(theme)
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
    fig = d.new_figure(theme, height)
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
        fontsize=d.FONT_PT - 0.5,
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


def alt(spec: UNetSpec) -> str:
    from unet_explain.render.formatting import count, megabytes, si

    most = max(spec.stages, key=lambda s: s.params)
    busiest = max(spec.stages, key=lambda s: s.macs)
    fullest = max(spec.stages, key=lambda s: s.activation_bytes)
    return (
        f"Bar charts per stage of parameters ({count(spec.totals.params)} in all, most in {most.name}), "
        f"multiply-accumulates per tile ({si(spec.totals.macs)}, most in {busiest.name}) and activation memory per "
        f"tile ({megabytes(spec.totals.activation_bytes)}, most in {fullest.name})."
    )

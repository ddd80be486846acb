"""Copy and crop: the copied encoder map's border is cut to the up-sampled size."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from unet_explain.core import names
from unet_explain.render.figures import drawing as d

if TYPE_CHECKING:
    from unet_explain.core.spec import UNetSpec


def draw(spec: UNetSpec, theme: str) -> Any:
    c = d.colours(theme)
    decoders = d.stages(spec, names.EXPANSIVE)
    dec1 = spec.stage(names.decoder(1))
    skip, up, crop = dec1.skip_size or (0, 0), dec1.up_size or (0, 0), dec1.crop or (0, 0)
    lines = ["Every level: copy → kept"]
    for stage in decoders:
        level_crop = stage.crop or (0, 0)
        lines.append(f"{stage.name}: {d.size(stage.skip_size or (0, 0))} → {d.size(stage.up_size or (0, 0))}")
        lines[-1] += f" (crop {level_crop[0]})" if level_crop[0] == level_crop[1] else ""
        if level_crop[0] != level_crop[1]:
            lines.append(f"     crop {level_crop[0]} rows, {level_crop[1]} columns")
    rule = "crop per side = (copy − up-sampled) / 2: the convolutions since the copy lost that border."
    if spec.config.padding == "same":
        rule = "padding 'same': no convolution loses a border, so the copy already has the up-sampled size: 0 px crop."
    rule_lines = d.wrap(rule, 66)
    body = max(1.3 + 5.8 + 1.4, 0.35 + 0.62 * len(lines) + 0.3)
    total = body + 0.6 * len(rule_lines) + 0.2
    fig = d.new_figure(theme, d.WIDTH_IN * total / 16.0)
    ax = d.canvas(fig, (0, 16.0), (0, total))
    # The box in box, to scale: the copied map and the part of it the decoder keeps.
    side = 5.8
    scale = side / max(skip)
    x0, y0 = 0.6, 1.3
    bw, bh = skip[1] * scale, skip[0] * scale
    kx, ky = x0 + crop[1] * scale, y0 + crop[0] * scale
    d.box(ax, x0, y0, bw, bh, facecolor=c["drop_fill"], edgecolor=c["drop"], lw=2, hatch="//")
    d.box(ax, kx, ky, up[1] * scale, up[0] * scale, facecolor=c["keep_fill"], edgecolor=c["keep"], lw=2.4)
    ax.text(x0 + bw / 2, y0 - 0.15, f"copy of {dec1.skip_from}: {d.size(skip)}", ha="center", va="bottom")
    ax.text(
        kx + up[1] * scale / 2,
        ky + up[0] * scale / 2,
        f"kept:\n{d.size(up)}\n(up-sampled\nsize)",
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
        f"{d.px(crop)} per side cropped",
        ha="left",
        va="center",
        color=c["drop"],
        fontweight="bold",
    )
    d.lines(ax, 6.9, 0.35, lines, 0.62, fontsize=d.FONT_PT - 1)
    d.lines(ax, 0.2, body, rule_lines, 0.6, fontsize=d.FONT_PT - 1, color=c["muted"])
    return fig


def alt(spec: UNetSpec) -> str:
    dec1 = spec.stage(names.decoder(1))
    crop = dec1.crop or (0, 0)
    levels = "; ".join(
        f"{stage.name} {d.size(stage.skip_size or (0, 0))} to {d.size(stage.up_size or (0, 0))}, "
        f"{d.px(stage.crop or (0, 0))} per side"
        for stage in d.stages(spec, names.EXPANSIVE)
    )
    return (
        f"Copy and crop as a box in a box: the {d.size(dec1.skip_size or (0, 0))} map copied from "
        f"{dec1.skip_from}, with the centre {d.size(dec1.up_size or (0, 0))} that dec1 keeps and a border of "
        f"{d.px(crop)} on each side cropped away. Every level: {levels}."
    )

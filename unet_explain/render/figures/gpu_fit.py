"""Memory of a training step and of inference against the tile side, with common GPU sizes marked."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from unet_explain.render.figures import drawing as d

if TYPE_CHECKING:
    from unet_explain.core.spec import UNetSpec


#: GPU memory sizes marked on the figure, GiB.
GPU_GIB = (8, 12, 16, 24, 40, 80)
POINTS = 160


@functools.lru_cache(maxsize=8)
def largest_tiles(spec: UNetSpec, mode: str) -> dict[int, int | None]:
    """The largest valid tile side for each GPU size (batch 1, SGD with momentum, float32); found once per spec
    for the alt text and both drawings. The caller must not change the dict."""
    from unet_explain.core.fit import candidate_sides, largest_fitting

    sides = candidate_sides(spec)
    found = {}
    for gib in GPU_GIB:
        index = largest_fitting(spec, sides, gib * 2**30, 1, mode=mode, optimizer="sgd", dtype="float32")
        found[gib] = None if index is None else sides[index]
    return found


def curve(spec: UNetSpec, mode: str, upto: int) -> tuple[list[int], list[float]]:
    """Valid sides up to ``upto`` (about :data:`POINTS` of them) and the GiB each needs."""
    from unet_explain.core.fit import candidate_sides
    from unet_explain.core.memory import memory_use

    sides = [s for s in candidate_sides(spec) if s <= upto]
    step = max(1, len(sides) // POINTS)
    picked = sides[::step] + ([sides[-1]] if (len(sides) - 1) % step else [])
    axes = len(spec.config.input_size)
    gib = [memory_use(spec, tile=(s,) * axes, mode=mode).total / 2**30 for s in picked]
    return picked, gib


@functools.lru_cache(maxsize=4)
def plotted(spec: UNetSpec) -> tuple[dict[int, int | None], dict[int, int | None], int, dict[str, tuple[Any, Any]]]:
    """What the figure shows, computed once for both themes: the largest tiles for training and inference,
    the tile axis's end, and each mode's curve."""
    from unet_explain.core.fit import candidate_sides

    train_fit, infer_fit = largest_tiles(spec, "train"), largest_tiles(spec, "infer")
    known = [s for s in (*train_fit.values(), *infer_fit.values()) if s is not None]
    upto = int(max(known, default=candidate_sides(spec)[0] * 8) * 1.15)
    return train_fit, infer_fit, upto, {mode: curve(spec, mode, upto) for mode in ("train", "infer")}


def draw(spec: UNetSpec, theme: str) -> Any:
    c = d.colours(theme)
    hues = c["hues"].split(",")
    train_fit, infer_fit, upto, curves = plotted(spec)
    height = 5.4
    fig = d.new_figure(theme, height)
    ax = fig.add_axes((0.11, 0.14, 0.86, 0.72))
    for mode, colour, label in (("train", hues[0], "training step"), ("infer", hues[2], "inference")):
        xs, ys = curves[mode]
        ax.plot(xs, ys, color=colour, linewidth=2.2, label=label)
    ax.set_yscale("log")
    ax.set_xlim(0, upto)
    ax.set_ylim(0.5, max(GPU_GIB) * 1.8)  # from half a GiB: the GPU sizes get room, small tiles matter little
    for gib in GPU_GIB:
        ax.axhline(gib, color=c["muted"], linewidth=0.8, linestyle=(0, (4, 3)))
        ax.text(0.005, gib, f"{gib} GiB", transform=ax.get_yaxis_transform(), ha="left", va="bottom", fontsize=10,
                color=c["muted"])  # fmt: skip
        # Each dot is the largest valid tile that fits, labelled below right, where the rising curves leave room.
        for side, colour in ((train_fit[gib], hues[0]), (infer_fit[gib], hues[2])):
            if side is not None:
                ax.plot([side], [gib], marker="o", markersize=5, color=colour)
                ax.text(side + 0.015 * upto, gib, str(side), ha="left", va="top", fontsize=10, color=colour)
    ax.set_xlabel("input tile side (px; the same on every axis)", fontsize=11)
    ax.set_ylabel("memory (GiB, log scale)", fontsize=11)
    ax.tick_params(labelsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="lower right", fontsize=10, frameon=False)
    fig.text(0.02, 1 - 0.1 / height, "Memory against tile size: which tile fits which GPU", va="top",
             fontweight="bold", fontsize=d.FONT_PT - 0.5)  # fmt: skip
    fig.text(0.02, 0.08 / height, "batch 1, SGD with momentum, float32; a dot: the largest valid tile that fits",
             va="bottom", fontsize=10, color=c["muted"])  # fmt: skip
    return fig


def alt(spec: UNetSpec) -> str:
    train_fit, infer_fit = largest_tiles(spec, "train"), largest_tiles(spec, "infer")

    def listing(found: dict[int, int | None]) -> str:
        return ", ".join(f"{side or 'none'} px on {gib} GiB" for gib, side in found.items())

    return (
        "Memory of one training step (batch 1, SGD with momentum, float32) and of one forward pass against the "
        f"input tile side, log scale, with GPU sizes marked. Largest training tile: {listing(train_fit)}. "
        f"Largest inference tile: {listing(infer_fit)}."
    )

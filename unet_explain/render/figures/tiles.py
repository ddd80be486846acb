"""The overlap-tile strategy (the paper's Figure 2) on a texture a reader can follow across tiles."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from unet_explain.render.figures import drawing as d

if TYPE_CHECKING:
    from unet_explain.core.spec import UNetSpec


def _soft_box(yy: Any, xx: Any, box: tuple[float, float, float, float], soft: float) -> Any:
    """1 inside ``(top, bottom, left, right)``, 0 outside, with a ramp ``soft`` px wide (no jagged edges)."""
    import numpy as np

    top, bottom, left, right = box
    inside = np.minimum(np.minimum(yy - top, bottom - yy), np.minimum(xx - left, right - xx))
    return np.clip(inside / soft + 0.5, 0.0, 1.0)


@lru_cache(maxsize=4)
def _texture(height: int, width: int, margin: int, soft: float = 1.0, step: int = 1) -> Any:
    """A deterministic image of round 'cells' on a gradient, with an "F" near the left edge.

    The "F" sits within ``margin`` px of the left edge (when there is a margin), so the mirrored border shows
    it whole and flipped; its edges ramp over ``soft`` px so that a shrunken picture stays smooth. With
    ``step`` > 1 the image is sampled at every ``step``-th pixel only (the picture shows it shrunk anyway),
    so a tile of any size costs the same to draw. Kept for the other theme's drawing (read-only).
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
    img = np.clip(img, 0, 1.4)
    img.setflags(write=False)
    return img


def _tiles_plan(spec: UNetSpec) -> Any:
    from unet_explain.core.arithmetic import MAX_SIDE
    from unet_explain.core.tiling import plan_tiles

    out = spec.totals.output_size
    # Two output tiles side by side, within the largest image the planner takes (a huge tile still gets a
    # second, narrower tile beside it).
    return plan_tiles((max(out[0], 2), min(max(2 * out[1], 2), MAX_SIDE)), spec)


def draw(spec: UNetSpec, theme: str) -> Any:
    import numpy as np

    c = d.colours(theme)
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
        text = d.wrap(
            f"padding '{spec.config.padding}': the output tile is the input tile ({d.size(plan.input_tile)}), so tiles "
            f"only abut (overlap {overlap} px) and no mirrored context is needed; the zero padding gives border "
            "pixels less context instead."
        )
    else:
        text = [
            f"input tiles {d.size(plan.input_tile)} → output tiles {d.size(plan.output_tile)}",
            f"neighbours overlap by {overlap} px = 2 x {plan.margin[1]} px of context",
            f"outside the image: {plan.margin[1]} px mirrored from it, so edge pixels get context too",
            'the "F" near the left edge appears flipped in the mirrored border: a mirror, not new content',
        ]
        text = [line for raw in text for line in d.wrap(raw, 66)]
    img_w_in = d.WIDTH_IN * 0.94
    img_h_in = img_w_in * ph / pw
    head_in, text_in = 0.42, 0.3 * len(text) + 0.55
    height = head_in + img_h_in + text_in
    fig = d.new_figure(theme, height)
    ax = fig.add_axes((0.03, text_in / height, 0.94, img_h_in / height))
    ax.imshow(shown, cmap="gray", extent=(0, bw * stride, bh * stride, 0), interpolation="bilinear", vmin=0, vmax=1.4)
    ax.set_xlim(0, pw)
    ax.set_ylim(ph, 0)
    ax.axis("off")
    # Veil the mirrored border a little, keeping its texture visible.
    for x, y, bw, bh in ((0, 0, pw, top), (0, top + h, pw, bottom), (0, top, left, h), (left + w, top, right, h)):
        if bw > 0 and bh > 0:
            d.box(ax, x, y, bw, bh, facecolor=c["overlay"], alpha=0.4, lw=0)
    t1, t2 = c["drop"], c["keep"]
    if overlap > 0:
        d.box(ax, o2c, o2r, overlap, nh, facecolor=c["accent"], alpha=0.35, lw=0)
    d.box(ax, o1c + left, o1r + top, mw, mh, fill=False, edgecolor=t1, lw=1.6, ls=(0, (1.5, 2)))
    d.box(ax, o2c + left, o2r + top, mw, mh, fill=False, edgecolor=t2, lw=1.6, ls=(0, (1.5, 2)))
    d.box(ax, left, top, w, h, fill=False, edgecolor=c["second"], lw=2.4)
    d.box(ax, o1c, o1r, nw, nh, fill=False, edgecolor=t1, lw=3)
    d.box(ax, o2c, o2r, nw, nh, fill=False, edgecolor=t2, lw=3)
    ax.text(o1c, -ph * 0.02, f"input tile 1: {d.size(plan.input_tile)}", color=t1, fontweight="bold", va="bottom")
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


def alt(spec: UNetSpec) -> str:
    plan = _tiles_plan(spec)
    (o1, o2) = plan.input_origins()[:2]
    overlap = plan.input_tile[1] - (o2[1] - o1[1])
    if spec.config.padding == "same":
        return (
            f"Two neighbouring {d.size(plan.input_tile)} input tiles over a {d.size(plan.image_size)} image, "
            f"each labelling a {d.size(plan.output_tile)} output tile: with padding '{spec.config.padding}' the "
            "output tile is the input tile, so the tiles need no overlap and no mirrored border for their sizes "
            "to fit; the pixels near a tile's edge then see zeros of the padding instead of real context."
        )
    return (
        f"Two neighbouring {d.size(plan.input_tile)} input tiles over a {d.size(plan.image_size)} image, "
        f"each labelling a {d.size(plan.output_tile)} output tile; they overlap by {overlap} px, twice the "
        f"{plan.margin[1]} px context margin, and the image is mirrored by {plan.margin[1]} px beyond its edge"
        + (': an "F" near the left edge appears flipped in the mirrored border.' if plan.margin[1] else ".")
    )

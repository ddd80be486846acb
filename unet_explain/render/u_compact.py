"""The U at the width of a page column: one box per stage, few and large labels (the site's page figure).

The full diagram (:mod:`unet_explain.render.diagram`) draws every map with its
size and channels; shown in a 688 px column its labels end up at 6 px. This
rendition keeps what a reader needs to find their place in the network: one
box per stage with its name, the size and channels of its output, the crop of
each copy, and the tile and output at the top. It is drawn at the size it is
shown (:data:`WIDTH` user units = CSS pixels at 1:1), so its smallest text
(:data:`SMALL_PX`) is what the eye gets. The full diagram stays one tap away.

Plain SVG written here: no Graphviz, no matplotlib. Colours come from the
full diagram's themes, so both look alike.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from unet_explain.config import format_size
from unet_explain.core import names
from unet_explain.core.spec import Stage, UNetSpec
from unet_explain.render.diagram import CONV, COPY, HEAD, POOL, UPCONV, check_highlight, check_theme

WIDTH = 640
"""The drawing's width in user units; shown at up to this many CSS pixels."""
NAME_PX = 15
"""A stage's name."""
SMALL_PX = 13
"""Sizes, channels and crops: the smallest text of the drawing."""
BOX_W = 168
BOX_H = 44
ROW = 64
"""Vertical distance between two levels."""
MARGIN = 8
TOP = 30
"""Room above the first level for the input and output labels."""
FONT = "DejaVu Sans, Verdana, sans-serif"


def _text(x: float, y: float, text: str, size: int, colour: str, *, bold: bool = False, anchor: str = "middle") -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<text x="{x:g}" y="{y:g}" font-size="{size}" fill="{colour}" text-anchor="{anchor}"{weight}>'
        f"{html.escape(text)}</text>"
    )


def _arrow(x0: float, y0: float, x1: float, y1: float, colour: str, dashed: bool = False) -> str:
    dash = ' stroke-dasharray="5 3"' if dashed else ""
    return (
        f'<line x1="{x0:g}" y1="{y0:g}" x2="{x1:g}" y2="{y1:g}" stroke="{colour}" stroke-width="2"{dash} '
        f'marker-end="url(#head-{colour.lstrip("#")})"/>'
    )


def _boxes(spec: UNetSpec) -> tuple[dict[str, tuple[float, float]], float]:
    """The top-left corner of every stage's box (the output has none), and how much the U narrows per level."""
    depth = spec.config.depth
    # Deeper networks narrow less per level, so the deepest copy arrow keeps room for its label.
    step = min(36.0, (WIDTH - 2 * MARGIN - 2 * BOX_W - 96) / 2 / max(depth - 1, 1))
    boxes: dict[str, tuple[float, float]] = {}
    for stage in spec.stages:
        y = TOP + (stage.level - 1) * ROW
        inset = MARGIN + (stage.level - 1) * step
        if stage.path == names.CONTRACTING:
            boxes[stage.name] = (inset, y)
        elif stage.path == names.EXPANSIVE:
            boxes[stage.name] = (WIDTH - inset - BOX_W, y)
        elif stage.path == names.BOTTLENECK:
            boxes[stage.name] = ((WIDTH - BOX_W) / 2, TOP + depth * ROW)
    return boxes, step


def _label(stage: Stage) -> str:
    return f"{format_size(stage.out_size)} · {stage.channels} ch"


def compact_u(spec: UNetSpec, highlight: Iterable[str] | str | None = None, theme: str = "light") -> str:
    """The column-width U of ``spec`` as SVG text; ``highlight`` stages in full colour, the rest muted."""
    colours = check_theme(theme)
    lit = check_highlight(spec, highlight)
    depth = spec.config.depth
    boxes, _ = _boxes(spec)
    height = TOP + depth * ROW + BOX_H + MARGIN
    edges = colours.edges
    used = {edges[k] for k in (CONV, COPY, POOL, UPCONV, HEAD)} | {colours.muted_stroke}
    markers = "".join(
        f'<marker id="head-{c.lstrip("#")}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" '
        f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>'
        for c in sorted(used)
    )
    background = "none" if colours.background in ("transparent", "white") else colours.background
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:g}" '
        f'viewBox="0 0 {WIDTH} {height:g}" font-family="{FONT}" role="img">',
        f"<defs>{markers}</defs>",
        f'<rect width="100%" height="100%" fill="{background}"/>',
    ]

    def on(*stages: str) -> bool:
        return not lit or any(s in lit for s in stages)

    def colour(kind: str, *stages: str) -> str:
        return edges[kind] if on(*stages) else colours.muted_stroke

    stages = {s.name: s for s in spec.stages}
    # Arrows first, boxes on top.
    for stage in spec.stages:
        x, y = boxes.get(stage.name, (0.0, 0.0))
        if stage.path == names.CONTRACTING:
            below = names.encoder(stage.level + 1) if stage.level < depth else names.BOTTLENECK
            bx, by = boxes[below]
            out.append(_arrow(x + 24, y + BOX_H, bx + 24, by - 2, colour(POOL, stage.name, below)))
        elif stage.path == names.EXPANSIVE:
            assert stage.skip_from is not None and stage.crop is not None
            source = boxes[stage.skip_from]
            mid_y = y + BOX_H / 2
            out.append(_arrow(source[0] + BOX_W, mid_y, x - 2, mid_y, colour(COPY, stage.name), dashed=True))
            crops = stage.crop  # one per axis: 2 for an image, 3 for a volume
            crop = f"crop {crops[0]}" if len(set(crops)) == 1 else "crop " + "x".join(map(str, crops))
            centre = (source[0] + BOX_W + x) / 2
            out.append(_text(centre, mid_y - 6, crop, SMALL_PX, colours.text if on(stage.name) else colours.muted_text))
            below = names.decoder(stage.level + 1) if stage.level < depth else names.BOTTLENECK
            bx, by = boxes[below]
            out.append(
                _arrow(bx + BOX_W - 24, by, x + BOX_W - 24, y + BOX_H + 2, colour(UPCONV, stage.name, below))
            )
    # The tile in, the map out.
    enc1, dec1, output = stages[names.encoder(1)], stages[names.decoder(1)], stages[names.OUTPUT]
    ex, _ = boxes[enc1.name]
    dx1, _ = boxes[dec1.name]
    in_text = f"input {format_size(spec.config.input_size)} · {spec.config.in_channels} ch"
    out_text = f"output {format_size(output.out_size)} · {output.channels} classes"
    out.append(_text(ex, TOP - 10, in_text, SMALL_PX, colours.text if on(enc1.name) else colours.muted_text,
                     anchor="start"))  # fmt: skip
    out.append(_text(dx1 + BOX_W, TOP - 10, out_text, SMALL_PX,
                     colours.text if on(output.name, dec1.name) else colours.muted_text, anchor="end"))  # fmt: skip
    for name, (x, y) in boxes.items():
        stage = stages[name]
        fill = colours.map_fill if on(name) else colours.muted_fill
        stroke = colours.stroke if on(name) else colours.muted_stroke
        ink = colours.text if on(name) else colours.muted_text
        width = 3 if lit and name in lit else 1.2
        out.append(
            f'<g data-stage="{name}"><rect x="{x:g}" y="{y:g}" width="{BOX_W}" height="{BOX_H}" rx="5" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>'
        )
        out.append(_text(x + BOX_W / 2, y + 18, name, NAME_PX, ink, bold=True))
        out.append(_text(x + BOX_W / 2, y + 36, _label(stage), SMALL_PX, ink) + "</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def focus(spec: UNetSpec, highlight: Iterable[str] | str | None) -> tuple[float, float]:
    """The span of the highlighted stages' boxes, as fractions of the width (the whole width without one).

    A phone shows the drawing in a box that scrolls sideways; the page centres this span there, or, if it
    is wider than the screen, opens at its start.
    """
    lit = check_highlight(spec, highlight)
    if not lit:
        return 0.0, 1.0
    boxes, _ = _boxes(spec)
    dec1 = boxes[names.decoder(1)]
    lefts = [boxes.get(name, dec1)[0] for name in lit]  # the output is labelled above dec1
    return round(min(lefts) / WIDTH, 3), round((max(lefts) + BOX_W) / WIDTH, 3)

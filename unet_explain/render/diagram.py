"""The U-shaped architecture figure (the paper's Figure 1), built as a pydot graph.

Figure 1 draws every feature map as a box, as tall as the map is large and as
wide as it has channels, with its channel count on top and its size beside it;
the contracting path runs down the left, the expansive path up the right as its
mirror image, pooling arrows drop straight down, up-convolution arrows rise
straight up into the up-sampled half of each concatenated box, and grey "copy
and crop" arrows cross the U at every level. We draw the same picture for any
configuration:

* one node per feature map, whose id is the name of the Keras layer producing
  it (``enc1_conv2``, ``enc1_pool``, ``dec4_concat``, ``output_conv``; the
  input is ``input_tile``), so diagram, table and model share one vocabulary;
  its labels are separate text nodes (``enc1_conv2__channels``,
  ``enc1_conv2__size``) and each level carries its stage's name
  (``enc1__name`` ... ``bottleneck__name`` ... ``dec1__name``);
* one edge per operation, coloured by kind, with a legend.

Why the positions are computed, not left to Graphviz: ``dot`` ranks nodes in
rows and then spreads each row to shorten edges, so the decoder rows drift
right, pooling arrows slant and up-convolution arrows double back across their
row; no choice of weights makes an arrow exactly vertical or the arms exact
mirrors. Figure 1 is a geometric drawing, so
:func:`unet_explain.render.u_layout.layout` computes every box, label and
arrow from the spec, and the graph is emitted with ``layout=nop2`` (Graphviz's
``neato -n2``): node ``pos`` and edge ``pos`` are used as given, and Graphviz
only draws: fonts, HTML boxes, arrowheads, PNG/SVG/PDF. The layout stays
testable from Graphviz's own output (``-Tjson``).

``highlight`` draws some stages in full colour and mutes the rest (the site
marks each walkthrough step's place in the U); ``theme`` picks light, dark or
transparent colours. :func:`unet_graph` only builds the graph;
:mod:`unet_explain.render.output` writes it. pydot is imported here and
nowhere in the core.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydot

from unet_explain.config import UNetConfig, format_size
from unet_explain.core import names
from unet_explain.core.spec import UNetSpec, build_spec
from unet_explain.errors import ConfigError, shown
from unet_explain.render.formatting import title
from unet_explain.render.u_layout import CROP_PT, LINE, Arrow, Box, Figure, Label, crop_label, layout, text_width

__all__ = [
    "OPERATIONS",
    "THEMES",
    "Operation",
    "Theme",
    "UDiagram",
    "check_highlight",
    "check_theme",
    "crop_label",
    "diagram",
    "stage_of",
    "unet_graph",
]

FONT = "DejaVu Sans"
TITLE_PT = 15.0
LEGEND_PT = 10.0
LEGEND_GAP = 22.0  # from the lowest label to the legend's centre line
LEGEND_ARROW = 28.0  # length of a legend's arrow
LEGEND_SPACING = 20.0  # between legend entries
ARROW_LENGTH = 8.0  # points
MAX_INCHES = 25.0  # Graphviz scales a larger drawing down: at most 2400 px at 96 dpi


@dataclass(frozen=True)
class Operation:
    """How one kind of operation is drawn."""

    label: str
    """Legend text."""
    color: str
    """Edge colour."""
    style: str = "solid"
    """Graphviz edge style."""


CONV = "conv"
POOL = "pool"
UPCONV = "upconv"
COPY = "copy"
HEAD = "head"

OPERATIONS = {
    CONV: Operation("conv 3x3, ReLU", "#1f4e9c"),
    COPY: Operation("copy and crop", "#8c8c8c", "dashed"),
    POOL: Operation("max pool 2x2", "#c0392b"),
    UPCONV: Operation("up-conv 2x2", "#1e9e4a"),
    HEAD: Operation("conv 1x1, softmax", "#0e8c8c"),
}


def operation_label(op: str, spec: UNetSpec) -> str:
    """The legend's name of an operation for this network: a volume's kernels read 3x3x3, BN is named."""
    text = OPERATIONS[op].label
    if len(spec.config.input_size) == 3:
        text = text.replace("3x3", "3x3x3").replace("2x2", "2x2x2").replace("1x1", "1x1x1")
    if spec.config.norm == "batch" and op == CONV:
        text = text.replace(", ReLU", ", BN, ReLU")
    return text


MAP_FILL = "#dbe7f7"
COPY_FILL = "#ffffff"
UP_FILL = "#b9d0f0"


@dataclass(frozen=True)
class Theme:
    """The colours of one look of the figure; ``muted_*`` draw the stages a highlight leaves out."""

    name: str
    """``light``, ``dark`` or ``transparent``."""
    background: str
    """Graphviz ``bgcolor`` (``transparent`` for none)."""
    text: str
    """Channel counts, stage names, title."""
    subtle: str
    """Sizes and crop labels."""
    stroke: str
    """Box outlines."""
    map_fill: str
    """A feature map produced by a convolution or pooling."""
    copy_fill: str
    """The cropped copy in a concatenated map, and the input tile."""
    up_fill: str
    """The up-sampled half of a concatenated map."""
    output_fill: str
    """The segmentation map."""
    edges: dict[str, str]
    """Arrow colour per operation (``conv``, ``copy``, ``pool``, ``upconv``, ``head``)."""
    muted_fill: str
    """Fill of a map outside the highlighted stages."""
    muted_stroke: str
    """Outline, and arrow colour, outside the highlighted stages."""
    muted_text: str
    """Text outside the highlighted stages."""


_LIGHT_EDGES = {name: op.color for name, op in OPERATIONS.items()}

THEMES = {
    "light": Theme(
        "light", "white", "#1a1a1a", "#555555", "#3c4a5c", MAP_FILL, COPY_FILL, UP_FILL, "#c9ece9",
        _LIGHT_EDGES, "#f2f2f2", "#d0d0d0", "#b8b8b8",
    ),
    "dark": Theme(
        "dark", "#1e2129", "#e8eaed", "#b4b9c2", "#c5cedb", "#2e4a72", "#454b57", "#3f6fae", "#1d6b68",
        {CONV: "#8ab4ff", COPY: "#a3a8b0", POOL: "#ff8a7a", UPCONV: "#5fd68c", HEAD: "#4fd6cf"},
        "#272a33", "#474c57", "#5e6470",
    ),
    "transparent": Theme(
        "transparent", "transparent", "#1a1a1a", "#555555", "#3c4a5c", MAP_FILL, COPY_FILL, UP_FILL, "#c9ece9",
        _LIGHT_EDGES, "#f2f2f2", "#d0d0d0", "#b8b8b8",
    ),
}  # fmt: skip


def stage_of(node: str) -> str:
    """The stage a node belongs to: the prefix of its Keras layer name; the input tile counts with ``enc1``."""
    return names.encoder(1) if node == names.INPUT else node.split("_", 1)[0]


def check_highlight(spec: UNetSpec, highlight: Iterable[str] | str | None) -> frozenset[str]:
    """The stage names to highlight, checked against the spec's stages (a :class:`ConfigError` otherwise)."""
    if highlight is None:
        return frozenset()
    items = [highlight] if isinstance(highlight, str) else highlight
    if not isinstance(items, (list, tuple, set, frozenset)) or not all(isinstance(item, str) for item in items):
        raise ConfigError(
            "highlight", f"must be stage names such as 'enc2' or ['enc2', 'dec2']; got {shown(highlight)}"
        )
    wanted = [w.strip() for item in items for w in item.split(",") if w.strip()]
    valid = names.stage_order(spec.config.depth)
    unknown = list(dict.fromkeys(w for w in wanted if w not in valid))
    if unknown:
        more = f" and {len(unknown) - 3:,} more" if len(unknown) > 3 else ""
        raise ConfigError(
            "highlight",
            f"got unknown stage {', '.join(shown(u, 40) for u in unknown[:3])}{more}; "
            f"for depth {spec.config.depth} the stages are {', '.join(valid)}",
        )
    return frozenset(wanted)


def check_theme(theme: str) -> Theme:
    """The :class:`Theme` called ``theme`` (a :class:`ConfigError` naming the choices otherwise)."""
    if not isinstance(theme, str) or theme not in THEMES:
        raise ConfigError("theme", f"must be one of {', '.join(THEMES)}, got {shown(theme)}")
    return THEMES[theme]


def _pt(value: float) -> str:
    """A coordinate as Graphviz reads it, rounded so the DOT file is stable."""
    return f"{round(value, 2):g}"


def _inch(points: float) -> str:
    return f"{round(points / 72, 4):g}"


def _edge_pos(start: tuple[float, float], tip: tuple[float, float]) -> str:
    """A straight spline from ``start`` ending in an arrowhead whose tip is ``tip``."""
    (x0, y0), (x1, y1) = start, tip
    length = math.hypot(x1 - x0, y1 - y0)
    back = min(ARROW_LENGTH, length / 2) / length
    xe, ye = x1 - (x1 - x0) * back, y1 - (y1 - y0) * back
    points = [(x0 + (xe - x0) * t / 3, y0 + (ye - y0) * t / 3) for t in range(4)]
    return f"e,{_pt(x1)},{_pt(y1)} " + " ".join(f"{_pt(x)},{_pt(y)}" for x, y in points)


class _Builder:
    """Turns the placed figure into pydot nodes and edges, coloured by theme and highlight."""

    def __init__(self, spec: UNetSpec, theme: Theme, highlight: frozenset[str]) -> None:
        self.spec = spec
        self.theme = theme
        self.highlight = highlight
        self.graph = pydot.Dot(
            "unet",
            graph_type="digraph",
            layout="nop2",
            splines="line",
            outputorder="edgesfirst",
            fontname=FONT,
            fontsize=f"{TITLE_PT:g}",
            fontcolor=theme.text,
            labelloc="t",
            label=html.escape(title(spec)),
            bgcolor=theme.background,
            pad="0.25",
            size=f"{MAX_INCHES:g},{MAX_INCHES:g}",
        )
        self.graph.set_node_defaults(fontname=FONT, margin="0", penwidth="1.2")
        self.graph.set_edge_defaults(arrowsize=f"{ARROW_LENGTH / 10:g}", penwidth="1.8", fontname=FONT)

    def lit(self, stage: str) -> bool:
        """Whether ``stage`` is drawn in full colour (no highlight, or it is highlighted)."""
        return not self.highlight or stage in self.highlight

    def box(self, box: Box) -> None:
        t = self.theme
        lit = self.lit(box.stage)
        stroke = t.stroke if lit else t.muted_stroke
        fill = {"input": t.copy_fill, "output": t.output_fill}.get(box.role, t.map_fill) if lit else t.muted_fill
        channels = box.channel_text
        common: dict[str, Any] = {
            "pos": f"{_pt(box.x)},{_pt(box.y)}",
            "tooltip": f"{box.node}: {channels} channels, {format_size(box.size)}",
            "class": f"map {box.stage}" + ("" if lit else " muted"),
        }
        if box.role == "concat":
            copy_fill, up_fill = (t.copy_fill, t.up_fill) if lit else (t.muted_fill, t.muted_fill)
            cell = f'WIDTH="{_pt(box.half_width)}" HEIGHT="{_pt(box.height)}" FIXEDSIZE="TRUE"'
            label = (
                f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="0" COLOR="{stroke}"><TR>'
                f'<TD PORT="copy" BGCOLOR="{copy_fill}" {cell}></TD>'
                f'<TD PORT="up" BGCOLOR="{up_fill}" {cell}></TD></TR></TABLE>>'
            )
            node = pydot.Node(box.node, shape="none", label=label, **common)
        else:
            node = pydot.Node(
                box.node,
                shape="box",
                style="filled",
                fixedsize="true",
                width=_inch(box.width),
                height=_inch(box.height),
                label="",
                fillcolor=fill,
                color=stroke,
                **common,
            )
        self.graph.add_node(node)

    def text(self, label: Label) -> None:
        t = self.theme
        lit = label.kind == "legend" or self.lit(label.stage)
        colour = (t.subtle if label.kind == "size" else t.text) if lit else t.muted_text
        # The node is wider than the text, and the text is pinned to its left
        # or right edge, so the text's end sits exactly at the layout's anchor
        # whatever width the font really gives it.
        width = 2 * math.ceil((label.width * 1.3 + 6) / 2)
        x = {"l": label.x + width / 2, "r": label.x - width / 2, "c": label.x}[label.align]
        text = html.escape(label.text)
        if label.bold:
            text = f"<B>{text}</B>"
        justify = {"l": ' ALIGN="LEFT"', "r": ' ALIGN="RIGHT"', "c": ""}[label.align]
        attrs: dict[str, Any] = {
            "shape": "none",
            "fixedsize": "true",
            "width": _inch(width),
            "height": _inch(label.points * LINE),
            "pos": f"{_pt(x)},{_pt(label.y)}",
            "label": f'<<TABLE BORDER="0" CELLPADDING="0" CELLSPACING="0">'
            f'<TR><TD{justify} WIDTH="{width}"><FONT COLOR="{colour}" POINT-SIZE="{label.points:g}">'
            f"{text}</FONT></TD></TR></TABLE>>",
            "class": f"{label.kind} {label.stage}" + ("" if lit else " muted"),
        }
        self.graph.add_node(pydot.Node(label.node, **attrs))

    def arrow(self, arrow: Arrow) -> None:
        t = self.theme
        lit = self.lit(arrow.stage)
        attrs: dict[str, Any] = {
            "pos": _edge_pos(arrow.start, arrow.end),
            "color": t.edges[arrow.op] if lit else t.muted_stroke,
            "style": OPERATIONS[arrow.op].style,
            "class": f"{arrow.op} {arrow.stage}" + ("" if lit else " muted"),
        }
        if arrow.label is not None and arrow.label_pos is not None:
            attrs |= {
                "label": arrow.label,
                "lp": f"{_pt(arrow.label_pos[0])},{_pt(arrow.label_pos[1])}",
                "fontsize": f"{CROP_PT:g}",
                "fontcolor": t.subtle if lit else t.muted_text,
            }
        self.graph.add_edge(pydot.Edge(arrow.tail, arrow.head, **attrs))

    def legend(self, figure: Figure) -> None:
        """One row under the U: each operation drawn as the figure draws it, with its name."""
        y = figure.bottom - LEGEND_GAP
        labels = {op: operation_label(op, self.spec) for op in OPERATIONS}
        entries = [(op, text_width(labels[op], LEGEND_PT)) for op in OPERATIONS]
        total = sum(LEGEND_ARROW + 6 + width for _, width in entries) + LEGEND_SPACING * (len(entries) - 1)
        x = -total / 2
        for op, width in entries:
            tail, head = f"legend_{op}_from", f"legend_{op}_to"
            for name, at in ((tail, x), (head, x + LEGEND_ARROW)):
                self.graph.add_node(
                    pydot.Node(name, shape="point", width="0.01", style="invis", pos=f"{_pt(at)},{_pt(y)}")
                )
            attrs: dict[str, Any] = {
                "pos": _edge_pos((x, y), (x + LEGEND_ARROW, y)),
                "color": self.theme.edges[op],
                "style": OPERATIONS[op].style,
                "class": f"legend {op}",
            }
            self.graph.add_edge(pydot.Edge(tail, head, **attrs))
            self.text(Label(f"legend_{op}", "", labels[op], "legend", x + LEGEND_ARROW + 6, y, "l", LEGEND_PT))
            x += LEGEND_ARROW + 6 + width + LEGEND_SPACING


def unet_graph(
    spec_or_config: UNetSpec | UNetConfig | None = None,
    *,
    highlight: Iterable[str] | str | None = None,
    theme: str = "light",
) -> pydot.Dot:
    """Build the U-shaped architecture graph for a spec or config (default: the paper's network).

    Every node and edge carries its position (``pos``) from
    :func:`unet_explain.render.u_layout.layout`; the graph's ``layout=nop2``
    tells Graphviz to draw them where they are. ``highlight`` and ``theme`` as
    in :func:`diagram`.
    """
    spec = spec_or_config if isinstance(spec_or_config, UNetSpec) else build_spec(spec_or_config or UNetConfig())
    b = _Builder(spec, check_theme(theme), check_highlight(spec, highlight))
    figure = layout(spec)
    for arrow in figure.arrows:
        b.arrow(arrow)
    for box in figure.boxes:
        b.box(box)
    for label in figure.labels:
        b.text(label)
    b.legend(figure)
    return b.graph


@dataclass(frozen=True)
class UDiagram:
    """A U diagram ready to show in Jupyter (as SVG) or to write to a file."""

    graph: pydot.Dot
    """The pydot graph."""

    def to_dot(self) -> str:
        """The DOT source."""
        return str(self.graph.to_string())

    def render(self, fmt: str) -> bytes:
        """Render with Graphviz's ``dot`` to ``png``, ``svg`` or ``pdf``."""
        from unet_explain.render.output import render_graph

        return render_graph(self.graph, fmt)

    def save(self, path: str | Path, fmt: str | None = None) -> Path:
        """Write to ``path`` atomically; the format comes from ``fmt`` or the suffix (png, svg, pdf, dot)."""
        from unet_explain.render.output import DIAGRAM_FORMATS, atomic_write, format_from_path

        path = Path(path)
        fmt = format_from_path(path, fmt, DIAGRAM_FORMATS)
        data = self.to_dot().encode("utf-8") if fmt == "dot" else self.render(fmt)
        return atomic_write(path, data)

    def _repr_svg_(self) -> str:
        return self.render("svg").decode("utf-8")


def diagram(
    spec_or_config: UNetSpec | UNetConfig | None = None,
    *,
    highlight: Iterable[str] | str | None = None,
    theme: str = "light",
) -> UDiagram:
    """The U diagram of a spec or config, displayable in Jupyter.

    ``highlight`` names stages (``["enc2"]``, or ``"enc2,dec2"``) to draw in full
    colour, the rest muted; ``theme`` is ``light``, ``dark`` or ``transparent``.
    """
    return UDiagram(unet_graph(spec_or_config, highlight=highlight, theme=theme))

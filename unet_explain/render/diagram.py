"""The U-shaped architecture figure (the paper's Figure 1), built as a pydot graph.

Figure 1 draws every feature map as a box with its channel count on top and
its size beside it; the contracting path runs down the left, the expansive
path up the right, and grey "copy and crop" arrows cross the U at every
level. We build the same picture from the spec:

* one node per feature map, whose id is the name of the Keras layer producing
  it (``enc1_conv2``, ``dec4_concat``), so diagram, table and model share one
  vocabulary;
* one ``rank=same`` row per resolution level, so encoder level k and decoder
  level k sit side by side and the bottleneck lies at the bottom;
* one edge per operation, coloured by kind, with a legend.

:func:`unet_graph` only builds the graph; :mod:`unet_explain.render.output`
writes it. pydot is imported here and nowhere in the core.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pydot

from unet_explain.config import UNetConfig, format_size
from unet_explain.core import names
from unet_explain.core.spec import UNetSpec, build_spec
from unet_explain.errors import ConfigError

if TYPE_CHECKING:
    from unet_explain.core.spec import Stage

FONT = "DejaVu Sans"


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
    wanted = [highlight] if isinstance(highlight, str) else list(highlight)
    wanted = [w.strip() for item in wanted for w in item.split(",") if w.strip()]
    valid = names.stage_order(spec.config.depth)
    unknown = [w for w in wanted if w not in valid]
    if unknown:
        raise ConfigError(
            "highlight",
            f"got unknown stage {', '.join(repr(u) for u in unknown)}; "
            f"for depth {spec.config.depth} the stages are {', '.join(valid)}",
        )
    return frozenset(wanted)


def check_theme(theme: str) -> Theme:
    """The :class:`Theme` called ``theme`` (a :class:`ConfigError` naming the choices otherwise)."""
    if theme not in THEMES:
        raise ConfigError("theme", f"must be one of {', '.join(THEMES)}, got {theme!r}")
    return THEMES[theme]


def _side(size: tuple[int, int]) -> str:
    """``568`` for a square map, ``568x632`` otherwise (Figure 1 writes one number)."""
    return str(size[0]) if size[0] == size[1] else format_size(size)


def _cell_width(channels: int) -> int:
    """Wider boxes for more channels, as in Figure 1 (logarithmic so 1024 still fits)."""
    return 18 + 4 * max(0, round(math.log2(max(channels, 1))))


def _map_label(channels: int, size: tuple[int, int], fill: str, text: str, stroke: str) -> str:
    width = _cell_width(channels)
    return (
        f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3" COLOR="{stroke}">'
        f'<TR><TD BGCOLOR="{fill}" WIDTH="{width}"><FONT COLOR="{text}"><B>{channels}</B></FONT></TD></TR>'
        f'<TR><TD BORDER="0"><FONT POINT-SIZE="10" COLOR="{text}">{html.escape(format_size(size))}</FONT></TD></TR>'
        f"</TABLE>>"
    )


def _concat_label(
    copy_channels: int, up_channels: int, size: tuple[int, int], fills: tuple[str, str], text: str, stroke: str
) -> str:
    """The concatenated map as Figure 1 draws it: the cropped copy (white) beside the up-sampled map (blue)."""
    return (
        f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3" COLOR="{stroke}">'
        f'<TR><TD PORT="copy" BGCOLOR="{fills[0]}" WIDTH="{_cell_width(copy_channels)}">'
        f'<FONT COLOR="{text}"><B>{copy_channels}</B></FONT></TD>'
        f'<TD PORT="up" BGCOLOR="{fills[1]}" WIDTH="{_cell_width(up_channels)}">'
        f'<FONT COLOR="{text}"><B>{up_channels}</B></FONT></TD></TR>'
        f'<TR><TD BORDER="0" COLSPAN="2"><FONT POINT-SIZE="10" COLOR="{text}">'
        f"{html.escape(format_size(size))}</FONT></TD></TR>"
        f"</TABLE>>"
    )


def crop_label(stage: Stage) -> str:
    """``crop 88: 568 → 392``; with padding "same", ``copy, no crop (crop 0): 64``."""
    assert stage.crop is not None and stage.skip_size is not None and stage.up_size is not None
    dy, dx = stage.crop
    if dy == dx == 0:
        return f"copy, no crop (crop 0): {_side(stage.skip_size)}"
    amount = str(dy) if dy == dx else f"{dy}x{dx}"
    return f"crop {amount}: {_side(stage.skip_size)} → {_side(stage.up_size)}"


def _legend(theme: Theme) -> str:
    rows = "".join(
        f'<TR><TD ALIGN="RIGHT"><FONT COLOR="{theme.edges[name]}" POINT-SIZE="14">'
        f"{'╌╌╌▶' if op.style == 'dashed' else '━━━▶'}</FONT></TD>"
        f'<TD ALIGN="LEFT"><FONT COLOR="{theme.text}">{html.escape(op.label)}</FONT></TD></TR>'
        for name, op in OPERATIONS.items()
    )
    return f'<<TABLE BORDER="1" COLOR="{theme.subtle}" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2">{rows}</TABLE>>'


class _Builder:
    """Accumulates nodes and edges, one row (rank) per resolution level."""

    def __init__(self, spec: UNetSpec, theme: Theme, highlight: frozenset[str]) -> None:
        self.spec = spec
        self.theme = theme
        self.highlight = highlight
        config = spec.config
        self.graph = pydot.Dot(
            "unet",
            graph_type="digraph",
            rankdir="TB",
            nodesep="0.18",
            ranksep="0.5",
            newrank="true",
            fontname=FONT,
            labelloc="t",
            fontsize="16",
            label=f"U-Net (Ronneberger et al. 2015): {html.escape(config.describe())}",
            bgcolor=theme.background,
            fontcolor=theme.text,
            pad="0.3",
        )
        self.graph.set_node_defaults(shape="plaintext", fontname=FONT, fontsize="12", margin="0")
        self.graph.set_edge_defaults(fontname=FONT, fontsize="10", arrowsize="0.7", penwidth="1.6")
        self.rows: dict[int, pydot.Subgraph] = {}

    def row(self, level: int) -> pydot.Subgraph:
        if level not in self.rows:
            sub = pydot.Subgraph(f"level{level}", rank="same")
            self.rows[level] = sub
            self.graph.add_subgraph(sub)
        return self.rows[level]

    def node(self, name: str, level: int, label: str, tooltip: str) -> str:
        self.row(level).add_node(pydot.Node(name, label=label, tooltip=tooltip))
        return name

    def lit(self, node: str) -> bool:
        """Whether ``node`` is drawn in full colour (no highlight, or its stage is highlighted)."""
        return not self.highlight or stage_of(node) in self.highlight

    def map_label(self, node: str, channels: int, size: tuple[int, int], fill: str | None = None) -> str:
        t = self.theme
        if not self.lit(node):
            return _map_label(channels, size, t.muted_fill, t.muted_text, t.muted_stroke)
        return _map_label(channels, size, fill or t.map_fill, t.text, t.stroke)

    def concat_label(self, node: str, copy_channels: int, up_channels: int, size: tuple[int, int]) -> str:
        t = self.theme
        if not self.lit(node):
            fills = (t.muted_fill, t.muted_fill)
            return _concat_label(copy_channels, up_channels, size, fills, t.muted_text, t.muted_stroke)
        return _concat_label(copy_channels, up_channels, size, (t.copy_fill, t.up_fill), t.text, t.stroke)

    def edge(self, src: str, dst: str, op: str, stage_node: str | None = None, **attrs: Any) -> None:
        lit = self.lit((stage_node or dst).split(":")[0])
        colour = self.theme.edges[op] if lit else self.theme.muted_stroke
        if "label" in attrs:
            attrs["fontcolor"] = self.theme.subtle if lit else self.theme.muted_text
        self.graph.add_edge(pydot.Edge(src, dst, color=colour, style=OPERATIONS[op].style, **attrs))


def unet_graph(
    spec_or_config: UNetSpec | UNetConfig | None = None,
    *,
    highlight: Iterable[str] | str | None = None,
    theme: str = "light",
) -> pydot.Dot:
    """Build the U-shaped architecture graph for a spec or config (default: the paper's network).

    Layout: heavy invisible edges stack the first map of every contracting
    level under the one above (the left arm of the U) and every concatenated
    map of the expansive path under the one above (the right arm); pooling and
    up-convolution arrows carry no weight, so they slant instead of pushing the
    rows apart, and the bottleneck settles at the bottom in the middle.
    """
    spec = spec_or_config if isinstance(spec_or_config, UNetSpec) else build_spec(spec_or_config or UNetConfig())
    b = _Builder(spec, check_theme(theme), check_highlight(spec, highlight))
    config = spec.config
    ends: dict[str, str] = {}  # stage name -> node of its last feature map
    arm: dict[str, str] = {}  # previous node of the left and right arm, for the invisible spine

    def spine(side: str, node: str) -> None:
        if side in arm:
            b.graph.add_edge(pydot.Edge(arm[side], node, style="invis", weight="20"))
        arm[side] = node

    previous = b.node(
        names.INPUT, 1, b.map_label(names.INPUT, config.in_channels, config.input_size, b.theme.copy_fill), "input tile"
    )
    spine("left", previous)
    for stage in spec.stages:
        level = stage.level
        if stage.path in (names.CONTRACTING, names.BOTTLENECK):
            for layer in stage.layers[: len(stage.conv_sizes)]:
                node = b.node(layer.name, level, b.map_label(layer.name, layer.channels, layer.out_size), layer.name)
                b.edge(previous, node, CONV, weight="2")
                previous = node
            ends[stage.name] = previous
            if stage.pool_size is not None:
                pool = names.layer(stage.name, "pool")
                node = b.node(pool, level + 1, b.map_label(pool, stage.channels, stage.pool_size), pool)
                into_bottleneck = level == config.depth
                b.edge(previous, node, POOL, weight="1" if into_bottleneck else "0")
                if not into_bottleneck:
                    spine("left", node)
                previous = node
        elif stage.path == names.EXPANSIVE:
            assert stage.up_channels is not None and stage.up_size is not None and stage.skip_from
            concat = names.layer(stage.name, "concat")
            b.node(
                concat,
                level,
                b.concat_label(concat, stage.channels, stage.up_channels, stage.up_size),
                f"{concat}: cropped copy of {stage.skip_from} + up-sampled map",
            )
            # Drawn from the upper map with the arrow reversed, so it never fights the ranking.
            from_bottleneck = level == config.depth
            b.edge(f"{concat}:up", previous, UPCONV, concat, dir="back", weight="1" if from_bottleneck else "0")
            b.edge(
                ends[stage.skip_from],
                f"{concat}:copy",
                COPY,
                label=crop_label(stage),
                weight="0",
            )
            spine("right", concat)
            previous = concat
            for layer in stage.layers[3:]:
                node = b.node(layer.name, level, b.map_label(layer.name, layer.channels, layer.out_size), layer.name)
                b.edge(previous, node, CONV, weight="2")
                previous = node
        else:  # output: the 1x1 conv and softmax give the segmentation map
            head = stage.layers[0]
            node = b.node(
                head.name,
                level,
                b.map_label(head.name, head.channels, head.out_size, b.theme.output_fill),
                "output map",
            )
            b.edge(previous, node, HEAD, weight="2")
            previous = node
    legend = b.node("legend", config.depth + 2, _legend(b.theme), "legend")
    b.graph.add_edge(pydot.Edge(ends[names.BOTTLENECK], legend, style="invis"))
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

"""Where every box, label and arrow of the U goes: the paper's Figure 1 as coordinates.

Figure 1 of the paper is a precise drawing, not a graph layout. Its rules,
which this module turns into numbers computed from the spec:

* every feature map is a box; its height grows with the map's spatial size (for
  a volume, its in-plane size: rows and columns; the labels give all three) and
  its width with its channels (both on a log scale here, so that a 1276-pixel
  tile and a 4x4 bottleneck, or 1 and 4096 channels, share one readable
  figure);
* the contracting path runs down the left: a level's maps sit side by side, and
  the 2x2 max-pool arrow drops *straight down* from the level's last map to the
  next level's first map, so each level starts under the previous one's end;
* the expansive path is the mirror image on the right: the up-convolution
  arrow rises *straight up* from the last map of the level below into the
  up-sampled (blue) half of the concatenated box;
* the copy-and-crop arrow crosses the U horizontally at each level.

With ``S`` the distance between neighbouring maps and ``g`` half the width of
the U's narrowest gap (at the deepest level), the map centres are, for level
``k`` of a depth-``D`` network, measured from the U's axis::

    enc_k:  pooled input at -(g + 2S(D-k) + 2S), conv1 at -(g + 2S(D-k) + S), conv2 at -(g + 2S(D-k))
    dec_k:  up-sampled half at +(g + 2S(D-k)),   conv1 at +(g + 2S(D-k) + S), conv2 at +(g + 2S(D-k) + 2S)

so ``enc_k`` conv2 lies above ``enc_{k+1}``'s pooled input and ``dec_{k+1}``
conv2 below ``dec_k``'s up-sampled half, and the two arms are mirror images.
``S`` is the widest label or box plus room for an arrow; ``g`` is the smallest
gap that fits every crop label. Rows are stacked from their measured extents,
so nothing overlaps at any depth, size or channel count.

Coordinates are in points (1/72 inch), ``y`` pointing up, as Graphviz's.
Only numbers here: :mod:`unet_explain.render.diagram` turns them into a
Graphviz graph.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace

from unet_explain.config import format_size, format_size_arg
from unet_explain.core import names
from unet_explain.core.spec import CONV3X3, LayerSpec, Stage, UNetSpec

Size = tuple[int, ...]

# Font sizes (points). At Graphviz's 96 dpi for PNG a point is 4/3 pixel, so the
# smallest text (10 pt) is 13.3 px high in the default PNG.
CHANNEL_PT = 11.0
SIZE_PT = 10.0
CROP_PT = 10.0
STAGE_PT = 11.0

LINE = 1.3  # line height, in font sizes

BOX_MIN_H = 30.0  # the smallest map's box: room for the crop label beside it
BOX_MAX_H = 130.0  # the largest map's box
OCTAVE_MAX_H = 28.0  # at most this much taller per doubling of the side
BOX_MIN_W = 6.0  # a 1-channel map
BOX_W_PER_OCTAVE = 2.5  # wider per doubling of the channels
ARROW_GAP = 18.0  # the least room for a horizontal arrow between two boxes
ROW_GAP = 20.0  # the least room between two rows' labels, for the vertical arrows
TEXT_PAD = 6.0  # between a label and its neighbours
ARROW_SIDE = 6.0  # a label beside a vertical arrow keeps this far from it

# Advance widths of DejaVu Sans, in ems, for estimating a label's width before
# Graphviz measures it (the tests check the measured text never overlaps).
_EM = {**dict.fromkeys("0123456789", 0.636), "x": 0.592, " ": 0.318, "→": 0.838, "+": 0.838, ":": 0.337}
_EM |= {",": 0.318, "-": 0.361, "i": 0.278, "l": 0.278, "t": 0.392, "r": 0.411, "f": 0.352, "j": 0.278}
_EM_DEFAULT = 0.62
_BOLD = 1.1


def text_width(text: str, points: float, bold: bool = False) -> float:
    """Estimated width of ``text`` in DejaVu Sans at ``points`` size."""
    return sum(_EM.get(ch, _EM_DEFAULT) for ch in text) * points * (_BOLD if bold else 1.0)


@dataclass(frozen=True)
class Box:
    """One feature map."""

    node: str
    """The Keras layer producing the map (``enc1_conv2``), or ``input_tile``."""
    stage: str
    """The stage whose layer produces it (``enc1``); the input tile counts with ``enc1``."""
    role: str
    """``input``, ``map``, ``concat`` or ``output``."""
    channels: int
    """Channels; for a concatenated map, those of the cropped copy (its left half)."""
    size: Size
    """Spatial size (H, W), or (H, W, D) for a volume."""
    x: float
    """Centre of the box (for a concatenated map, of both halves together)."""
    y: float
    """Centre of the box."""
    width: float
    """Width of the whole box (both halves of a concatenated map)."""
    height: float
    """Height."""
    up_channels: int | None = None
    """For a concatenated map, the channels of the up-sampled half (its right half)."""

    @property
    def channel_text(self) -> str:
        """``"64+64"`` for a concatenated map (copy + up-sampled), else the channels."""
        return f"{self.channels}+{self.up_channels}" if self.role == "concat" else str(self.channels)

    @property
    def half_width(self) -> float:
        """Width of one half of a concatenated map."""
        return self.width / 2

    @property
    def up_x(self) -> float:
        """Centre of the up-sampled half of a concatenated map (the box's centre otherwise)."""
        return self.x + self.width / 4 if self.role == "concat" else self.x

    @property
    def left(self) -> float:
        return self.x - self.width / 2

    @property
    def right(self) -> float:
        return self.x + self.width / 2

    @property
    def top(self) -> float:
        return self.y + self.height / 2

    @property
    def bottom(self) -> float:
        return self.y - self.height / 2


@dataclass(frozen=True)
class Label:
    """One piece of text."""

    node: str
    """Graphviz node id: ``<map>__channels``, ``<map>__size`` or ``<stage>__name``."""
    stage: str
    """The stage it belongs to (for highlighting)."""
    text: str
    """The text."""
    kind: str
    """``channels``, ``size`` or ``stage``."""
    x: float
    """The anchor: the left end (align ``l``), right end (``r``) or centre (``c``)."""
    y: float
    """Centre line."""
    align: str
    """``l``, ``r`` or ``c``."""
    points: float
    """Font size."""
    bold: bool = False
    """Bold face."""

    @property
    def width(self) -> float:
        """Estimated width."""
        return text_width(self.text, self.points, self.bold)

    @property
    def span(self) -> tuple[float, float]:
        """Estimated left and right ends."""
        start = {"l": self.x, "r": self.x - self.width, "c": self.x - self.width / 2}[self.align]
        return start, start + self.width


@dataclass(frozen=True)
class Arrow:
    """One operation: a straight arrow from ``start`` to the tip ``end``."""

    tail: str
    """Graphviz node id the arrow leaves."""
    head: str
    """Graphviz node id it enters (``dec1_concat:up`` for a port)."""
    op: str
    """``conv``, ``pool``, ``upconv``, ``copy`` or ``head``."""
    stage: str
    """The stage whose layer it is (the stage of the map it produces)."""
    start: tuple[float, float]
    """Where it leaves the tail's box."""
    end: tuple[float, float]
    """Where its tip touches the head's box."""
    label: str | None = None
    """Text above the arrow (the crop of a copy-and-crop arrow)."""
    label_pos: tuple[float, float] | None = None
    """Centre of that text."""


@dataclass
class Figure:
    """Every box, label and arrow of the U, and the figure's extent."""

    boxes: list[Box] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    arrows: list[Arrow] = field(default_factory=list)
    bottom: float = 0.0
    """Lowest point of the drawing (the legend goes under it)."""

    def box(self, node: str) -> Box:
        """The box of ``node``."""
        return next(b for b in self.boxes if b.node == node)


def crop_label(stage: Stage) -> str:
    """``crop 88: 568 → 392``; with padding "same", ``copy, no crop (crop 0): 64``."""
    assert stage.crop is not None and stage.skip_size is not None and stage.up_size is not None
    if not any(stage.crop):
        return f"copy, no crop (crop 0): {format_size_arg(stage.skip_size)}"
    amount = str(stage.crop[0]) if len(set(stage.crop)) == 1 else format_size(stage.crop)
    return f"crop {amount}: {format_size_arg(stage.skip_size)} → {format_size_arg(stage.up_size)}"


def _scale(size: Size) -> float:
    """The side a box's height follows: the geometric mean of H and W (in-plane, for a volume)."""
    return math.sqrt(size[0] * size[1])


@dataclass(frozen=True)
class _Map:
    """A map before placement."""

    node: str
    stage: str
    role: str
    channels: int
    size: Size
    up_channels: int | None = None


def _convs(stage: Stage) -> list[LayerSpec]:
    """The stage's 3x3 convolutions (a batch normalisation after one draws no box of its own)."""
    return [layer for layer in stage.layers if layer.kind == CONV3X3]


def _maps(spec: UNetSpec) -> tuple[dict[int, list[_Map]], dict[int, list[_Map]], _Map]:
    """Each level's maps, left arm and right arm, in data-flow order; and the output map."""
    config = spec.config
    left: dict[int, list[_Map]] = {
        1: [_Map(names.INPUT, names.encoder(1), "input", config.in_channels, config.input_size)]
    }
    right: dict[int, list[_Map]] = {}
    output = None
    for stage in spec.stages:
        if stage.path in (names.CONTRACTING, names.BOTTLENECK):
            for layer in _convs(stage):
                left[stage.level].append(_Map(layer.name, stage.name, "map", layer.channels, layer.out_size))
            if stage.pool_size is not None:
                pool = names.layer(stage.name, "pool")
                left[stage.level + 1] = [_Map(pool, stage.name, "map", stage.channels, stage.pool_size)]
        elif stage.path == names.EXPANSIVE:
            assert stage.up_size is not None
            concat = names.layer(stage.name, "concat")
            skip = spec.stage(stage.skip_from or "")
            row = [_Map(concat, stage.name, "concat", skip.channels, stage.up_size, stage.up_channels)]
            row += [_Map(layer.name, stage.name, "map", layer.channels, layer.out_size) for layer in _convs(stage)]
            right[stage.level] = row
        else:
            head = stage.layers[0]
            output = _Map(head.name, stage.name, "output", head.channels, head.out_size)
    assert output is not None
    return left, right, output


def layout(spec: UNetSpec) -> Figure:
    """Place every map, label and arrow of ``spec``'s U (see the module docstring for the rules)."""
    depth = spec.config.depth
    left, right, output = _maps(spec)
    every = [m for row in (*left.values(), *right.values()) for m in row] + [output]

    # Box sizes: log scales, fixed for this figure.
    smallest = min(_scale(m.size) for m in every)
    octaves = max(math.log2(max(_scale(m.size) for m in every) / smallest), 1e-9)
    per_octave = min(OCTAVE_MAX_H, (BOX_MAX_H - BOX_MIN_H) / octaves)

    # Even whole points: Graphviz draws boxes (and HTML cells) in whole points
    # around the centre, so an odd size would sit half a point off the arrows.
    def height(m: _Map) -> float:
        return 2.0 * round((BOX_MIN_H + per_octave * math.log2(_scale(m.size) / smallest)) / 2)

    def width(m: _Map) -> float:
        one = 2 * round((BOX_MIN_W + BOX_W_PER_OCTAVE * math.log2(max(m.channels, 1))) / 2)
        return float(2 * one if m.role == "concat" else one)

    def channel_text(m: _Map) -> str:
        return f"{m.channels}+{m.up_channels}" if m.role == "concat" else str(m.channels)

    # The distance between neighbouring maps: room for the widest box and an
    # arrow, and for two neighbours' centred labels side by side. A concatenated
    # map's label is centred on both halves, so it reaches less far to the right.
    plain = [m for m in every if m.role != "concat"]
    reach = (
        max(max(text_width(channel_text(m), CHANNEL_PT, True), text_width(format_size(m.size), SIZE_PT)) for m in plain)
        / 2
    )
    concat_reach = max(
        (text_width(channel_text(m), CHANNEL_PT, True) / 2 - width(m) / 4 for m in every if m.role == "concat"),
        default=0.0,
    )
    step = max(2 * reach + TEXT_PAD, reach + concat_reach + TEXT_PAD, max(width(m) for m in plain) + ARROW_GAP)

    # Half the U's gap at the deepest level: wide enough for the bottleneck's
    # three maps, and at every level for the crop label and the labels under the boxes.
    decoders = {s.level: s for s in spec.stages if s.path == names.EXPANSIVE}
    half_gap = step
    for k in range(1, depth + 1):
        c2, concat = left[k][-1], right[k][0]
        widen = 2 * step * (depth - k)  # how much further out level k sits than level D, per side
        crop = text_width(crop_label(decoders[k]), CROP_PT) + 2 * TEXT_PAD
        need = width(c2) / 2 + crop + width(concat) * 3 / 4
        size_labels = (
            text_width(format_size(c2.size), SIZE_PT) + text_width(format_size(concat.size), SIZE_PT) + 2 * ARROW_SIDE
        )
        top_labels = (
            text_width(channel_text(c2), CHANNEL_PT, True) / 2
            + text_width(channel_text(concat), CHANNEL_PT, True) / 2
            + width(concat) / 4
        )
        half_gap = max(half_gap, (max(need, size_labels, top_labels) + TEXT_PAD) / 2 - widen)

    def left_x(k: int, i: int) -> float:
        """Centre of the i-th map (0: pooled input) of contracting level k; the bottleneck is k = depth + 1."""
        if k == depth + 1:
            return (-half_gap, 0.0, half_gap)[i]
        return -(half_gap + 2 * step * (depth - k)) - step * (2 - i)

    def right_x(k: int, i: int) -> float:
        """Centre of the i-th map (0: the up-sampled half of the concatenation) of expansive level k."""
        return half_gap + 2 * step * (depth - k) + step * i

    # Rows: place boxes at y = 0, then stack the rows from their extents.
    fig = Figure()
    rows: list[tuple[list[Box], list[Label]]] = []
    for k in range(1, depth + 2):
        boxes: list[Box] = []
        for i, m in enumerate(left[k]):
            boxes.append(Box(m.node, m.stage, m.role, m.channels, m.size, left_x(k, i), 0.0, width(m), height(m)))
        for i, m in enumerate(right.get(k, [])):
            w = width(m)
            x = right_x(k, i) - (w / 4 if m.role == "concat" else 0.0)
            boxes.append(Box(m.node, m.stage, m.role, m.channels, m.size, x, 0.0, w, height(m), m.up_channels))
        if k == 1:
            m = output
            boxes.append(Box(m.node, m.stage, m.role, m.channels, m.size, right_x(1, 3), 0.0, width(m), height(m)))
        rows.append((boxes, _labels(boxes, k, depth)))

    y = 0.0
    previous_bottom: float | None = None
    for boxes, labels in rows:
        top = max([b.top for b in boxes] + [lab.y + lab.points * LINE / 2 for lab in labels])
        bottom = min([b.bottom for b in boxes] + [lab.y - lab.points * LINE / 2 for lab in labels])
        y = 0.0 if previous_bottom is None else previous_bottom - ROW_GAP - top
        fig.boxes += [_moved(b, y) for b in boxes]
        fig.labels += [_moved_label(lab, y) for lab in labels]
        previous_bottom = y + bottom
    assert previous_bottom is not None
    fig.bottom = previous_bottom
    fig.arrows = _arrows(fig, spec, left, right)
    return fig


def _moved(box: Box, dy: float) -> Box:
    return replace(box, y=box.y + dy)


def _moved_label(label: Label, dy: float) -> Label:
    return Label(
        label.node, label.stage, label.text, label.kind, label.x, label.y + dy, label.align, label.points, label.bold
    )


def _labels(boxes: list[Box], level: int, depth: int) -> list[Label]:
    """Channel counts above each box, sizes below, the stage's name under its middle map.

    Where a vertical arrow leaves or enters a box, the label in its way moves
    to the side of the arrow that faces away from the row's other maps.
    """
    out: list[Label] = []
    left_boxes = [b for b in boxes if b.x < 0 or (level == depth + 1 and b.x <= 0)]
    right_boxes = [b for b in boxes if b not in left_boxes]
    deepest = level == depth + 1
    for b in boxes:
        ch_y = b.top + CHANNEL_PT * LINE / 2
        size_y = b.bottom - SIZE_PT * LINE / 2
        ch_x, ch_align = b.x, "c"
        size_x, size_align = b.x, "c"
        is_last_left = (b is left_boxes[-1] and not deepest) if left_boxes else False
        is_first_left = b is left_boxes[0] and level > 1
        is_last_right = bool(right_boxes) and b is right_boxes[-1] and b.role != "output"
        if deepest:
            is_last_right = b is boxes[-1]
        if is_first_left:  # the pooling arrow comes down into its top
            ch_x, ch_align = b.x - ARROW_SIDE, "r"
        if is_last_left:  # the pooling arrow leaves its bottom
            size_x, size_align = b.x + ARROW_SIDE, "l"
        if b.role == "concat" and level <= depth:  # the up-convolution arrow enters the up-sampled half's bottom
            size_x, size_align = b.up_x - ARROW_SIDE, "r"
        if is_last_right and level > 1:  # the up-convolution arrow leaves its top
            ch_x, ch_align = b.x + ARROW_SIDE, "l"
        text = b.channel_text
        out.append(Label(f"{b.node}__channels", b.stage, text, "channels", ch_x, ch_y, ch_align, CHANNEL_PT, True))
        out.append(Label(f"{b.node}__size", b.stage, format_size(b.size), "size", size_x, size_y, size_align, SIZE_PT))
    # The stage's name under its middle map (the input tile and output map get theirs too).
    named: list[tuple[Box, str]] = []
    arms = [left_boxes, right_boxes] if not deepest else [boxes]
    for arm in arms:
        maps = [b for b in arm if b.role != "output"]
        if not maps:
            continue
        middle = maps[len(maps) // 2] if not deepest else maps[1]
        named.append((middle, names.BOTTLENECK if deepest else middle.stage))
    for b in boxes:
        if b.role in ("input", "output"):
            named.append((b, "input" if b.role == "input" else names.OUTPUT))
    for b, text in named:
        y = b.bottom - SIZE_PT * LINE - STAGE_PT * LINE / 2
        stage = names.encoder(1) if text == "input" else text
        out.append(Label(f"{text}__name", stage, text, "stage", b.x, y, "c", STAGE_PT, True))
    return out


def _arrows(fig: Figure, spec: UNetSpec, left: dict[int, list[_Map]], right: dict[int, list[_Map]]) -> list[Arrow]:
    depth = spec.config.depth
    out: list[Arrow] = []

    def horizontal(a: Box, b: Box, op: str, head: str | None = None) -> Arrow:
        y = (max(a.bottom, b.bottom) + min(a.top, b.top)) / 2
        return Arrow(a.node, head or b.node, op, b.stage, (a.right, y), (b.left, y))

    for k in range(1, depth + 2):
        row = [fig.box(m.node) for m in left[k]]
        for a, b in itertools.pairwise(row):
            out.append(horizontal(a, b, "conv"))
        if k <= depth:
            c2, pooled = row[-1], fig.box(left[k + 1][0].node)
            out.append(Arrow(c2.node, pooled.node, "pool", c2.stage, (c2.x, c2.bottom), (pooled.x, pooled.top)))
    for k in range(depth, 0, -1):
        row = [fig.box(m.node) for m in right[k]]
        concat = row[0]
        below = fig.box(right[k + 1][-1].node if k < depth else left[depth + 1][-1].node)
        out.append(
            Arrow(
                below.node,
                f"{concat.node}:up",
                "upconv",
                concat.stage,
                (below.x, below.top),
                (concat.up_x, concat.bottom),
            )
        )
        source = fig.box(left[k][-1].node)
        copy = horizontal(source, concat, "copy", f"{concat.node}:copy")
        stage = spec.stage(names.decoder(k))
        text = crop_label(stage)
        mid = (source.right + concat.left) / 2
        out.append(
            Arrow(
                copy.tail,
                copy.head,
                "copy",
                concat.stage,
                copy.start,
                copy.end,
                text,
                (mid, copy.start[1] + CROP_PT * 0.75),
            )
        )
        for a, b in itertools.pairwise(row):
            out.append(horizontal(a, b, "conv"))
    last = fig.box(right[1][-1].node)
    output = next(b for b in fig.boxes if b.role == "output")
    out.append(horizontal(last, output, "head"))
    return out

"""Figure 1's geometry, read back from Graphviz's own output (``-Tjson``), for depth 1-6.

What Graphviz drew, not what we asked for: every box, text and arrow below comes
from the JSON that ``dot`` writes after laying out and measuring the figure
(text widths are Graphviz's, not our estimates).
"""

from __future__ import annotations

import itertools
import json
import math
import shutil
from dataclasses import dataclass
from functools import cache

import pytest

from unet_explain import UNetConfig, valid_sizes
from unet_explain.render import diagram as d

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")

EPS = 0.05  # points: Graphviz writes coordinates to two decimals


@dataclass(frozen=True)
class Rect:
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def overlaps(self, other: Rect, margin: float = 0.5) -> bool:
        return (
            self.x0 + margin < other.x1
            and other.x0 + margin < self.x1
            and self.y0 + margin < other.y1
            and other.y0 + margin < self.y1
        )


def rect(points: list[list[float]]) -> Rect:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return Rect(min(xs), min(ys), max(xs), max(ys))


@dataclass(frozen=True)
class Text:
    owner: str
    text: str
    box: Rect
    size: float


@dataclass(frozen=True)
class Edge:
    tail: str
    head: str
    op: str
    start: tuple[float, float]
    tip: tuple[float, float]


@dataclass
class Drawn:
    boxes: dict[str, list[Rect]]  # map node -> its box (a concatenated map: [copy half, up-sampled half])
    texts: list[Text]
    edges: list[Edge]
    tooltips: dict[str, str]


def texts_of(owner: str, ops: list[dict]) -> list[Text]:
    out, size = [], 14.0
    for op in ops:
        if op["op"] == "F":
            size = op["size"]
        elif op["op"] == "T":
            x, y = op["pt"]
            w = op["width"]
            x0 = {"l": x, "r": x - w, "c": x - w / 2}[op["align"]]
            # The baseline is at y; digits and lowercase reach about 0.75 em up, descenders 0.2 em down.
            out.append(Text(owner, op["text"], Rect(x0, y - 0.2 * size, x0 + w, y + 0.75 * size), size))
    return out


@cache
def drawn(config: UNetConfig) -> Drawn:
    graph = json.loads(d.diagram(config).render("json"))
    names = {o["_gvid"]: o["name"] for o in graph["objects"]}
    boxes: dict[str, list[Rect]] = {}
    texts = texts_of("title", graph.get("_ldraw_", []))
    tooltips = {}
    for o in graph["objects"]:
        if o.get("class", "").startswith("map"):
            ops = o.get("_draw_", []) + o.get("_ldraw_", [])
            boxes[o["name"]] = [rect(op["points"]) for op in ops if op["op"] == "P"]
            tooltips[o["name"]] = o["tooltip"]
        else:
            texts += texts_of(o["name"], o.get("_ldraw_", []))
    edges = []
    for e in graph["edges"]:
        spline = next(op["points"] for op in e["_draw_"] if op["op"] == "b")
        head = next(op["points"] for op in e["_hdraw_"] if op["op"] == "P")
        tip = max(head, key=lambda p: math.dist(p, spline[0]))  # the arrowhead's point
        edges.append(Edge(names[e["tail"]], names[e["head"]], e["class"].split()[0], tuple(spline[0]), tuple(tip)))
        texts += texts_of(f"edge {names[e['tail']]}->{names[e['head']]}", e.get("_ldraw_", []))
    return Drawn(boxes, texts, edges, tooltips)


def one(drawing: Drawn, node: str) -> Rect:
    (box,) = drawing.boxes[node]
    return box


def up_half(drawing: Drawn, node: str) -> Rect:
    return max(drawing.boxes[node], key=lambda r: r.x0)


def configs() -> list[UNetConfig]:
    out = []
    for depth in range(1, 7):
        for padding in ("valid", "same"):
            sides = valid_sizes(60, 1300, depth=depth, padding=padding)
            small, large = sides[0], sides[min(3, len(sides) - 1)]
            out.append(UNetConfig(input_size=small, depth=depth, padding=padding))
            out.append(
                UNetConfig(input_size=(small, large), depth=depth, padding=padding, in_channels=3, base_filters=16)
            )
    out.append(UNetConfig(input_size=(1148, 1276), depth=6, base_filters=64, num_classes=7))
    return out


CONFIGS = configs()
IDS = [f"d{c.depth}-{c.padding}-{c.input_size[0]}x{c.input_size[1]}-f{c.base_filters}" for c in CONFIGS]


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_pooling_arrows_drop_straight_down_from_box_to_box(config):
    drawing = drawn(config)
    pools = [e for e in drawing.edges if e.op == "pool"]
    assert len(pools) == config.depth
    for e in pools:
        assert e.tail.endswith("_conv2") and e.head == e.tail.replace("_conv2", "_pool")
        src, dst = one(drawing, e.tail), one(drawing, e.head)
        assert abs(e.start[0] - e.tip[0]) < EPS, e  # vertical
        assert abs(e.start[0] - src.cx) < EPS and abs(e.tip[0] - dst.cx) < EPS  # centre to centre
        assert abs(e.start[1] - src.y0) < EPS and abs(e.tip[1] - dst.y1) < EPS  # bottom to top
        assert e.tip[1] < e.start[1]  # downwards (Graphviz's y points up)


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_up_convolution_arrows_rise_straight_into_the_up_sampled_half(config):
    drawing = drawn(config)
    ups = [e for e in drawing.edges if e.op == "upconv"]
    assert len(ups) == config.depth
    for e in ups:
        level = int(e.head.removeprefix("dec").split("_")[0])
        below = "bottleneck_conv2" if level == config.depth else f"dec{level + 1}_conv2"
        assert (e.tail, e.head) == (below, f"dec{level}_concat")
        src, up = one(drawing, e.tail), up_half(drawing, e.head)
        assert abs(e.start[0] - e.tip[0]) < EPS, e
        assert abs(e.start[0] - src.cx) < EPS and abs(e.tip[0] - up.cx) < EPS
        assert abs(e.start[1] - src.y1) < EPS and abs(e.tip[1] - up.y0) < EPS
        assert e.tip[1] > e.start[1]  # upwards


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_horizontal_arrows_and_crop_labels(config):
    drawing = drawn(config)
    for e in drawing.edges:
        if e.op in ("conv", "copy", "head"):
            assert abs(e.start[1] - e.tip[1]) < EPS and e.tip[0] > e.start[0], e
    copies = {e.head: e for e in drawing.edges if e.op == "copy"}
    assert sorted(copies) == sorted(f"dec{k}_concat" for k in range(1, config.depth + 1))
    for head, e in copies.items():
        copy_half = min(drawing.boxes[head], key=lambda r: r.x0)
        assert abs(e.tip[0] - copy_half.x0) < EPS  # into the cropped copy's half
        (label,) = [t for t in drawing.texts if t.owner == f"edge {e.tail}->{e.head}"]
        assert label.text.startswith(("crop ", "copy, no crop"))
        assert e.start[0] < label.box.x0 and label.box.x1 < e.tip[0] and label.box.y0 > e.start[1]  # above it


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_the_arms_are_mirror_images(config):
    drawing = drawn(config)
    depth = config.depth
    axis = one(drawing, "bottleneck_conv1").cx
    pairs = [(f"enc{depth}_pool", "bottleneck_conv2")]
    for k in range(1, depth + 1):
        entering = "input_tile" if k == 1 else f"enc{k - 1}_pool"
        pairs += [(entering, f"dec{k}_conv2"), (f"enc{k}_conv1", f"dec{k}_conv1")]
    for left, right in pairs:
        a, b = one(drawing, left), one(drawing, right)
        assert abs((a.cx + b.cx) / 2 - axis) < EPS, (left, right)
        assert abs(a.cy - b.cy) < EPS, (left, right)  # same row
        assert a.cx < axis < b.cx
    for k in range(1, depth + 1):
        a, up = one(drawing, f"enc{k}_conv2"), up_half(drawing, f"dec{k}_concat")
        assert abs((a.cx + up.cx) / 2 - axis) < EPS and abs(a.cy - up.cy) < EPS
    # Each level steps in towards the axis by two maps on both sides, as in Figure 1.
    for k in range(1, depth):
        assert abs(one(drawing, f"enc{k}_conv2").cx - one(drawing, f"enc{k}_pool").cx) < EPS
        assert one(drawing, f"enc{k + 1}_conv1").cy < one(drawing, f"enc{k}_conv1").cy


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_nothing_overlaps(config):
    drawing = drawn(config)
    rects = [(name, r) for name, halves in drawing.boxes.items() for r in halves]
    for (n1, r1), (n2, r2) in itertools.combinations(rects, 2):
        if n1 != n2:
            assert not r1.overlaps(r2), (n1, n2)
    for t1, t2 in itertools.combinations(drawing.texts, 2):
        assert not t1.box.overlaps(t2.box), (t1, t2)
    for t in drawing.texts:
        for name, r in rects:
            assert not t.box.overlaps(r), (t, name)
        for e in drawing.edges:  # no arrow runs through a label
            (x0, y0), (x1, y1) = e.start, e.tip
            line = Rect(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
            assert not t.box.overlaps(line, margin=0.0), (t, e)


def sizes_and_channels(drawing: Drawn) -> list[tuple[int, int, Rect]]:
    """(area, channels, box) of every box; a concatenated map's halves each carry its channels."""
    out = []
    for name, halves in drawing.boxes.items():
        # tooltip: "<node>: <channels> channels, <H>x<W>", "<copy>+<up>" channels for a concatenation
        channels_part, size_part = drawing.tooltips[name].split(": ", 1)[1].split(" channels, ")
        h, w = (int(v) for v in size_part.split("x"))
        per_half = [int(c) for c in channels_part.split("+")]
        assert len(per_half) == len(halves)
        out += [(h * w, c, r) for c, r in zip(per_half, sorted(halves, key=lambda r: r.x0), strict=True)]
    return out


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_box_height_follows_the_size_and_width_the_channels(config):
    boxes = sizes_and_channels(drawn(config))
    for (a1, c1, r1), (a2, c2, r2) in itertools.permutations(boxes, 2):
        if a1 > a2:
            assert r1.height >= r2.height - EPS
        if a1 == a2:
            assert abs(r1.height - r2.height) < EPS
        if c1 > c2:  # widths are whole points: a few more channels may round to the same width
            assert r1.width >= r2.width
        if c1 >= 2 * c2:
            assert r1.width > r2.width
    tallest = max(r.height for _, _, r in boxes)
    lowest = min(r.height for _, _, r in boxes)
    assert tallest > 1.5 * lowest  # the maps visibly shrink down the U


def test_paper_boxes_shrink_level_by_level():
    drawing = drawn(UNetConfig())
    heights = [one(drawing, f"enc{k}_conv1").height for k in range(1, 5)] + [one(drawing, "bottleneck_conv1").height]
    assert heights == sorted(heights, reverse=True) and len(set(heights)) == 5
    widths = [one(drawing, f"enc{k}_conv1").width for k in range(1, 5)] + [one(drawing, "bottleneck_conv1").width]
    assert widths == sorted(widths) and len(set(widths)) == 5


@pytest.mark.parametrize("config", [UNetConfig(), UNetConfig(input_size=(188, 236), depth=2, padding="same")])
def test_every_level_is_named_in_the_figure(config):
    drawing = drawn(config)
    names = {t.text for t in drawing.texts}
    stages = {f"enc{k}" for k in range(1, config.depth + 1)} | {f"dec{k}" for k in range(1, config.depth + 1)}
    assert stages | {"bottleneck", "output", "input"} <= names
    # A stage's name sits under its row: below the row's first conv box, above the next row.
    for k in range(1, config.depth + 1):
        (label,) = [t for t in drawing.texts if t.text == f"enc{k}"]
        conv1 = one(drawing, f"enc{k}_conv1")
        assert label.box.y1 < conv1.y0 and abs(label.box.cx - conv1.cx) < 1

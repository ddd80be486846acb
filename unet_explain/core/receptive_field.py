"""The exact receptive field of every unit, by propagating input intervals through the layers.

Which input pixels can change one output pixel? The textbook recursion
(``r += (k - 1) * jump; jump *= stride``) assumes every unit of a layer sees
the same number of input pixels. That is not true here: a 2x2 max-pooling
window starts at an even position, an up-convolution copies one unit into two
neighbouring ones, and the copied maps of the skip connections join paths of
different depth. The size of the field therefore depends on the position of
the output pixel.

We answer exactly: for every position along an axis, we carry the interval
``[lo, hi]`` of input pixels it depends on, layer by layer:

* a 3x3 convolution at position p reads positions p .. p+2 of its input
  ("valid") or p-1 .. p+1 clipped to the map ("same");
* a 2x2 max-pooling reads 2p and 2p+1;
* a 2x2 stride-2 up-convolution reads p // 2;
* a crop by c reads p + c of the copied map;
* a concatenation reads both of its inputs at p (the union of two intervals,
  which we check is still an interval).

Every operation is separable, so the 2D field of output pixel (i, j) is the
rectangle of the row interval of i and the column interval of j; in a volume
(the 3D U-Net) it is the box of the three axes' intervals.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import chain
from operator import sub
from typing import TYPE_CHECKING, Any

from unet_explain.core import names
from unet_explain.core.stages import StageField

if TYPE_CHECKING:
    from unet_explain.core.stages import Stage, UNetSpec

Intervals = tuple[list[int], list[int]]  # (lo, hi) per position


# Each layer's output position p reads a window of its input's positions: the interval of input pixels it
# depends on runs from the lo of the window's first position to the hi of its last (lo and hi are monotone).
# The windows are regular, so each is taken by slicing the lo and hi lists, at C speed
# (tests/test_receptive_field.py checks each slice against the window it stands for).


def _conv3x3(src: Intervals, out_len: int, padding: str) -> Intervals:
    lo, hi = src
    if padding == "valid":  # position p reads p .. p+2
        return lo[:out_len], hi[2 : 2 + out_len]
    return lo[:1] + lo[:-1], hi[1:] + hi[-1:]  # "same" keeps the size: p - 1 .. p + 1, clipped to the map


def _pool2x2(src: Intervals, out_len: int) -> Intervals:
    lo, hi = src  # position p reads 2p and 2p+1
    return lo[: 2 * out_len : 2], hi[1 : 2 * out_len : 2]


def _upconv2x2(src: Intervals, out_len: int) -> Intervals:
    lo, hi = src  # positions 2q and 2q+1 both read q

    def doubled(values: list[int]) -> list[int]:
        return list(chain.from_iterable(zip(values, values, strict=True)))[:out_len]

    return doubled(lo), doubled(hi)


def _union(a: Intervals, b: Intervals, where: str) -> Intervals:
    if len(a[0]) != len(b[0]):  # pragma: no cover - a broken architecture
        raise AssertionError(f"{where}: the two inputs have {len(a[0])} and {len(b[0])} positions")
    # Disjoint at some position p: one interval starts more than one pixel after the other ends.
    if len(a[0]) and max(max(map(sub, a[0], b[1])), max(map(sub, b[0], a[1]))) > 1:  # pragma: no cover
        raise AssertionError(f"{where}: the two inputs of a position depend on disjoint input ranges")
    return list(map(min, a[0], b[0])), list(map(max, a[1], b[1]))


def propagate(stages: tuple[Stage, ...] | list[Stage], side: int, axis: int, padding: str) -> dict[str, Intervals]:
    """Intervals of input pixels, along one axis, for every position of every layer's output."""
    maps: dict[str, Intervals] = {}
    x: Intervals = (list(range(side)), list(range(side)))
    skips: dict[str, Intervals] = {}
    for stage in stages:
        up: Intervals | None = None
        for layer in stage.layers:
            n_out = layer.out_size[axis]
            if layer.kind in ("conv3x3",):
                x = _conv3x3(x, n_out, padding)
            elif layer.kind == "maxpool":
                skips[stage.name] = x
                x = _pool2x2(x, n_out)
            elif layer.kind == "upconv":
                x = _upconv2x2(x, n_out)
                up = x
            elif layer.kind == "crop":
                assert stage.crop is not None and stage.skip_from is not None
                c = stage.crop[axis]
                src = skips[stage.skip_from]
                x = (src[0][c : c + n_out], src[1][c : c + n_out])
            elif layer.kind == "concat":
                assert up is not None
                x = _union(x, up, layer.name)
            # conv1x1 and softmax act per pixel: the intervals pass unchanged.
            assert len(x[0]) == len(x[1]) == n_out, f"{layer.name}: {len(x[0])} positions, not {n_out}"
            maps[layer.name] = x
    return maps


@dataclass(frozen=True)
class AxisField:
    """The receptive field along one axis, over all positions of one map."""

    sizes: dict[int, int]
    """Field size (pixels) -> how many positions have it."""
    offset_min: int
    """Smallest ``lo - centre`` over positions: how far the field reaches before the pixel's own position."""
    offset_max: int
    """Largest ``hi - centre``: how far it reaches after it."""

    @property
    def smallest(self) -> int:
        """The smallest field size over positions."""
        return min(self.sizes)

    @property
    def largest(self) -> int:
        """The largest field size over positions."""
        return max(self.sizes)


def axis_field(intervals: Intervals, margin: int) -> AxisField:
    """Summarise the intervals of a map whose position p sits over input pixel p + margin."""
    lo, hi = intervals
    sizes = Counter(map(sub, hi, lo))  # a field of hi - lo + 1 pixels
    return AxisField(
        sizes={size + 1: n for size, n in sorted(sizes.items())},
        offset_min=min(map(sub, lo, range(len(lo)))) - margin,
        offset_max=max(map(sub, hi, range(len(hi)))) - margin,
    )


def textbook_field(stages: tuple[Stage, ...] | list[Stage]) -> int:
    """The textbook recursion along the deepest path: ``r += (k - 1) * jump``, ``jump *= stride``.

    Up-convolutions divide the jump by their stride and add nothing; the skip
    connections are ignored, as the recursion has no way to combine paths.
    """
    r, jump = 1.0, 1.0
    for stage in stages:
        for layer in stage.layers:
            if layer.kind == "conv3x3":
                r += 2 * jump
            elif layer.kind == "maxpool":
                r += jump
                jump *= 2
            elif layer.kind == "upconv":
                jump /= 2
    return int(r)


def stage_fields(stages: list[Stage], input_size: tuple[int, ...], padding: str) -> dict[str, StageField]:
    """The receptive field of a unit of every stage's main output map."""
    per_axis: list[dict[str, tuple[int, int]]] = []
    for axis in range(len(input_size)):
        if input_size[axis] in input_size[:axis]:  # the same side gives the same fields
            per_axis.append(per_axis[input_size.index(input_size[axis])])
            continue
        maps = propagate(stages, input_size[axis], axis, padding)
        fields = {}
        for stage in stages:
            main = _main_layer(stage)
            lo, hi = maps[main]
            spans = list(map(sub, hi, lo))  # a field of hi - lo + 1 pixels
            fields[stage.name] = (min(spans) + 1, max(spans) + 1)
        per_axis.append(fields)
    return {
        stage.name: StageField(
            smallest=tuple(fields[stage.name][0] for fields in per_axis),
            largest=tuple(fields[stage.name][1] for fields in per_axis),
        )
        for stage in stages
    }


def _main_layer(stage: Stage) -> str:
    """The layer producing the stage's main output (before pooling for an encoder)."""
    if stage.path == names.OUTPUT:
        return stage.layers[0].name
    return names.conv(stage.name, len(stage.conv_sizes))


@dataclass(frozen=True)
class FieldReport:
    """The receptive field of the output map, exactly, with the textbook number beside it."""

    rows: AxisField
    """Along the rows (height)."""
    cols: AxisField
    """Along the columns (width)."""
    textbook: int
    """What the textbook recursion says (the same on every axis)."""
    stages: dict[str, StageField]
    """Per stage: the field of a unit of its main output."""
    slices: AxisField | None = None
    """Along the third axis of a volume; ``None`` for an image."""

    @property
    def axes(self) -> tuple[AxisField, ...]:
        """The field along each axis: (rows, columns) or (rows, columns, slices)."""
        return (self.rows, self.cols) if self.slices is None else (self.rows, self.cols, self.slices)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""

        def axis(field: AxisField) -> dict[str, Any]:
            return {
                "min": field.smallest,
                "max": field.largest,
                "positions_by_size": {str(k): v for k, v in field.sizes.items()},
                "offset": [field.offset_min, field.offset_max],
            }

        output = {"rows": axis(self.rows), "cols": axis(self.cols)}
        if self.slices is not None:
            output["slices"] = axis(self.slices)
        return {
            "output": output,
            "textbook": self.textbook,
            "stages": {name: field.as_dict() for name, field in self.stages.items()},
        }


def analyse(spec: UNetSpec) -> FieldReport:
    """The exact receptive field of every output pixel, summarised per axis."""
    stages, config = spec.stages, spec.config
    out = stages[-1]
    axes = []
    for axis in range(len(config.input_size)):
        maps = propagate(stages, config.input_size[axis], axis, config.padding)
        axes.append(axis_field(maps[_main_layer(out)], spec.totals.context_margin[axis]))
    fields = {s.name: s.receptive_field for s in stages if s.receptive_field is not None}
    third = axes[2] if len(axes) == 3 else None
    return FieldReport(rows=axes[0], cols=axes[1], textbook=textbook_field(stages), stages=fields, slices=third)

"""The exact receptive field: hand-derived values, a brute-force check, and Keras's gradients."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unet_explain import UNetConfig, build_spec, valid_sizes
from unet_explain.core.receptive_field import analyse, propagate, textbook_field


def brute_force(spec, side: int, axis: int) -> list[set[int]]:
    """Sets of input pixels per output position, by a separate, set-based walk through the layers."""
    padding = spec.config.padding
    x = [{p} for p in range(side)]
    skips, up = {}, None
    for stage in spec.stages:
        for layer in stage.layers:
            n = layer.out_size[axis]
            if layer.kind == "conv3x3":
                if padding == "valid":
                    x = [x[p] | x[p + 1] | x[p + 2] for p in range(n)]
                else:
                    x = [set().union(*(x[q] for q in (p - 1, p, p + 1) if 0 <= q < len(x))) for p in range(n)]
            elif layer.kind == "maxpool":
                skips[stage.name] = x
                x = [x[2 * p] | x[2 * p + 1] for p in range(n)]
            elif layer.kind == "upconv":
                x = [x[p // 2] for p in range(n)]
                up = x
            elif layer.kind == "crop":
                c = stage.crop[axis]
                x = skips[stage.skip_from][c : c + n]
            elif layer.kind == "concat":
                x = [a | b for a, b in zip(x, up, strict=True)]
    return x


def chain_sets(side: int, depth: int, padding: str) -> list[set[int]]:
    """Input pixels per output position along one axis, from the config alone (no spec, no arithmetic).

    A 1D chain of the paper's layers over sets of input positions; each crop is measured on the two
    lists' lengths, as a learner crops the copied map to the up-sampled one.
    """

    def conv(x: list[set[int]]) -> list[set[int]]:
        if padding == "valid":
            return [x[p] | x[p + 1] | x[p + 2] for p in range(len(x) - 2)]
        return [set().union(*x[max(p - 1, 0) : p + 2]) for p in range(len(x))]

    x = [{p} for p in range(side)]
    copies = []
    for _ in range(depth):
        x = conv(conv(x))
        copies.append(x)
        x = [x[2 * p] | x[2 * p + 1] for p in range(len(x) // 2)]
    x = conv(conv(x))
    for copy in reversed(copies):
        x = [x[p // 2] for p in range(2 * len(x))]
        c = (len(copy) - len(x)) // 2
        x = [a | b for a, b in zip(copy[c : c + len(x)], x, strict=True)]
        x = conv(conv(x))
    return x


def reach(sets: list[set[int]], side: int) -> tuple[int, int]:
    """Farthest reach before and after the pixel's own place in the input, over all output positions."""
    margin = (side - len(sets)) // 2
    before = min(min(s) - (p + margin) for p, s in enumerate(sets))
    return before, max(max(s) - (p + margin) for p, s in enumerate(sets))


def test_paper_reach_offsets_by_brute_force(capsys):
    import json

    from unet_explain.cli import main

    sets = chain_sets(572, 4, "valid")
    assert len(sets) == 388
    offsets = reach(sets, 572)
    assert offsets == (-107, 107)
    report = analyse(build_spec(UNetConfig()))
    assert (report.rows.offset_min, report.rows.offset_max) == offsets
    assert (report.cols.offset_min, report.cols.offset_max) == offsets
    assert main(["receptive-field", "-f", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["output"]["rows"]["offset"] == list(offsets)
    assert main(["receptive-field"]) == 0
    line = next(row for row in capsys.readouterr().out.splitlines() if "farthest reach" in row)
    assert line.split()[-6:] == ["-107", "..", "+107", "-107", "..", "+107"]


@pytest.mark.parametrize(
    ("size", "depth", "padding"),
    [((94, 110), 1, "valid"), ((140, 124), 2, "valid"), ((124, 92), 3, "valid"), ((412, 380), 5, "valid"),
     ((36, 20), 2, "same"), ((64, 48), 3, "same"), ((128, 64), 6, "same")],
)  # fmt: skip
def test_reach_and_sizes_of_other_depths_by_brute_force(size, depth, padding):
    report = analyse(build_spec(UNetConfig(input_size=size, depth=depth, padding=padding, base_filters=1)))
    for field, side in ((report.rows, size[0]), (report.cols, size[1])):
        sets = chain_sets(side, depth, padding)
        assert (field.offset_min, field.offset_max) == reach(sets, side)
        assert field.sizes == dict(sorted(Counter(len(s) for s in sets).items()))


def test_contracting_path_matches_the_hand_derived_recursion():
    # No pooling phase has come into play yet: r = 1 + 2 + 2 = 5; pool +1, jump 2; +4 +4 = 14; ...
    spec = build_spec(UNetConfig())
    expected = {"enc1": 5, "enc2": 14, "enc3": 32, "enc4": 68, "bottleneck": 140}
    for name, size in expected.items():
        field = spec.stage(name).receptive_field
        assert field.smallest == field.largest == (size, size)


def test_paper_output_field_is_not_the_textbook_number():
    spec = build_spec(UNetConfig())
    report = analyse(spec)
    assert report.textbook == textbook_field(spec.stages) == 200
    assert report.rows.smallest < report.textbook < report.rows.largest
    assert sum(report.rows.sizes.values()) == 388  # every output position counted once
    # Every field fits in the input tile, and the reach is measured from the pixel's place in the input.
    assert -report.rows.offset_min <= 572 and report.rows.offset_max <= 572


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.sampled_from(["valid", "same"]), st.data())
def test_intervals_equal_brute_force_sets(depth, padding, data):
    side = data.draw(st.sampled_from(valid_sizes(1, 160, depth=depth, padding=padding)))
    spec = build_spec(UNetConfig(input_size=side, depth=depth, padding=padding, base_filters=1))
    sets = brute_force(spec, side, 0)
    lo, hi = propagate(spec.stages, side, 0, padding)["output_conv"]
    for p, deps in enumerate(sets):
        assert deps == set(range(lo[p], hi[p] + 1)), p  # an exact, contiguous interval


def test_same_padding_clips_at_the_border():
    spec = build_spec(UNetConfig(input_size=64, depth=2, padding="same"))
    lo, hi = propagate(spec.stages, 64, 0, "same")["output_conv"]
    assert lo[0] == 0 and hi[-1] == 63
    report = analyse(spec)
    assert report.rows.smallest < report.rows.largest  # border pixels see less


def test_cli_receptive_field(capsys):
    import json

    from unet_explain.cli import main

    assert main(["receptive-field", "-f", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["textbook"] == 200
    assert data["stages"]["enc1"] == {"min": [5, 5], "max": [5, 5]}
    assert main(["receptive-field"]) == 0
    out = capsys.readouterr().out
    assert "textbook recursion" in out and "Why the textbook number differs" in out


@pytest.mark.keras
def test_field_matches_the_gradients_of_the_keras_model():
    """Where the gradient of one output pixel is non-zero is exactly the computed rectangle.

    Positive constant weights and a positive input keep every ReLU active. A max-pooling passes
    gradient to one element of its window only, so the gradient is taken through a copy of the
    model whose poolings average instead: the same dependency structure, gradient to all four.
    """
    import keras
    import tensorflow as tf

    from unet_explain import build_model

    config = UNetConfig(input_size=(60, 76), depth=2, base_filters=2)
    spec = build_spec(config)
    model = build_model(config)

    def swap(layer):
        if isinstance(layer, keras.layers.MaxPooling2D):
            return keras.layers.AveragePooling2D(2, 2, name=layer.name)
        return layer.__class__.from_config(layer.get_config())

    clone = keras.models.clone_model(model, clone_function=swap)
    for layer in clone.layers:
        for weight in layer.weights:
            weight.assign(np.full(weight.shape, 0.05 if "kernel" in weight.path else 0.01, dtype="float32"))
    logits = keras.Model(clone.input, clone.get_layer("output_conv").output)
    rows = propagate(spec.stages, 60, 0, "valid")["output_conv"]
    cols = propagate(spec.stages, 76, 1, "valid")["output_conv"]
    x = tf.constant(np.random.default_rng(0).uniform(0.5, 1.5, (1, 60, 76, 1)).astype("float32"))
    out_h, out_w = spec.totals.output_size
    positions = [(0, 0), (out_h - 1, out_w - 1), (1, 2), (3, 5), (out_h // 2, out_w // 2), (2, out_w - 2)]
    for i, j in positions:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = logits(x)[0, i, j, 0]
        grad = tape.gradient(y, x).numpy()[0, :, :, 0]
        nonzero = np.argwhere(grad != 0)
        expected = np.zeros_like(grad, dtype=bool)
        expected[rows[0][i] : rows[1][i] + 1, cols[0][j] : cols[1][j] + 1] = True
        assert (grad != 0).tolist() == expected.tolist(), (i, j, nonzero.min(0), nonzero.max(0))


@settings(max_examples=200)
@given(st.integers(1, 40), st.data())
def test_each_layers_window_is_the_index_rule_it_states(n, data):
    """The layers' windows are taken by slicing; each gives what reading its stated positions gives."""
    from unet_explain.core.receptive_field import _conv3x3, _pool2x2, _upconv2x2

    def _window(src, start, stop):  # output p reads source positions start[p] .. stop[p]
        return [src[0][a] for a in start], [src[1][b] for b in stop]

    steps = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    widths = data.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    lo = list(np.cumsum(steps).tolist())
    src = (lo, [a + w for a, w in zip(lo, widths, strict=True)])
    if n >= 3:  # valid: p reads p .. p+2
        assert _conv3x3(src, n - 2, "valid") == _window(src, list(range(n - 2)), [p + 2 for p in range(n - 2)])
    same = _window(src, [max(p - 1, 0) for p in range(n)], [min(p + 1, n - 1) for p in range(n)])
    assert _conv3x3(src, n, "same") == same  # p - 1 .. p + 1, clipped
    half = n // 2
    assert _pool2x2(src, half) == _window(src, [2 * p for p in range(half)], [2 * p + 1 for p in range(half)])
    assert _upconv2x2(src, 2 * n) == _window(src, [p // 2 for p in range(2 * n)], [p // 2 for p in range(2 * n)])

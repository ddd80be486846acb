"""Valid input sizes: the paper's rule, the closed form in the reference, and the error messages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unet_explain import ConfigError, UNetConfig, valid_size_table, valid_sizes


def test_valid_sizes_near_572():
    assert valid_sizes(540, 604) == [540, 556, 572, 588, 604]


def test_smallest_valid_size_depth4():
    assert valid_sizes(1, 200) == [188]


@pytest.mark.parametrize("depth", range(1, 7))
def test_closed_form(depth):
    """input = 2^d * b + 2c(2^d - 1) with c = 2 convs; input - output = 2c(3 * 2^d - 2)."""
    c = 2
    sizes = valid_sizes(1, 3000, depth=depth)
    assert sizes, "some size must be valid"
    for n in sizes:
        b, rest = divmod(n - 2 * c * (2**depth - 1), 2**depth)
        assert rest == 0 and b >= 1
        output = valid_size_table(n, n, depth=depth).rows[0].output
        assert n - output == 2 * c * (3 * 2**depth - 2)
    # Every size of that form above the smallest one is valid: the listing has no gaps.
    assert sizes == list(range(sizes[0], 3001, 2**depth))[: len(sizes)]


@pytest.mark.parametrize("depth", range(1, 7))
def test_same_padding_valid_iff_divisible(depth):
    assert valid_sizes(1, 300, depth=depth, padding="same") == list(range(2**depth, 301, 2**depth))


def test_table_margin_and_bottleneck():
    row = {r.input: r for r in valid_size_table(500, 620).rows}[572]
    assert (row.output, row.margin, row.bottleneck) == (388, 92, 32)


def message(**kwargs) -> str:
    with pytest.raises(ConfigError) as info:
        UNetConfig(**kwargs)
    return str(info.value)


def test_570_names_layer_and_neighbours():
    text = message(input_size=570)
    assert "input_size 570 is not valid" in text
    assert "enc2_pool receives 279" in text
    assert "even" in text
    assert text.endswith("nearest valid sizes: 556, 572")


def test_358_the_size_people_hit():
    text = message(input_size=358)
    assert "enc2_pool receives 173" in text
    assert text.endswith("nearest valid sizes: 348, 364")


@pytest.mark.parametrize(
    ("side", "where"),
    [(4, "enc1_conv2 receives 2 pixels"), (12, "bottleneck_conv2 receives 2 pixels")],  # 4-2=2; 12-4=8, /2=4, -2=2
)
def test_a_conv_given_two_pixels_is_where_it_breaks(side, where):
    """By hand, depth 1: the smallest tile is 18 (18, 16, 14 | 7, 5, 3 | 6, 4, 2); 16 would end at 0."""
    text = message(input_size=side, depth=1)
    assert f"{where}, but a 3x3 convolution without padding needs at least 3 pixels" in text
    assert text.endswith("the smallest valid size is 18")


def test_too_small_gives_smallest():
    assert message(input_size=100).endswith("the smallest valid size is 188")


def test_non_square_names_the_axis():
    text = message(input_size=(572, 570))
    assert "along the columns" in text
    assert text.endswith("nearest valid column sizes: 556, 572")


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"input_size": 0}, "input_size must be between 1 and 100000 pixels per side; got 0"),
        ({"input_size": -4}, "got -4"),
        ({"input_size": 10**9}, "got 1000000000"),
        ({"input_size": 572.0}, "must be a whole number; got 572.0"),
        ({"input_size": True}, "whole number"),
        ({"depth": 0}, "depth must be between 1 and 6; got 0"),
        ({"depth": 7}, "depth must be between 1 and 6; got 7"),
        ({"num_classes": 1}, "num_classes must be between 2"),
        ({"in_channels": 0}, "in_channels must be between 1"),
        ({"base_filters": 0}, "base_filters must be between 1"),
        ({"padding": "full"}, "padding must be 'valid' (the paper) or 'same'; got 'full'"),
    ],
)
def test_bad_values(kwargs, fragment):
    assert fragment in message(**kwargs)


def test_huge_values_are_answered():
    """Refused with their rule; how fast is measured in benchmarks/bench.py, not here."""
    assert message(input_size=10**9) == "input_size must be between 1 and 100000 pixels per side; got 1000000000"
    # By hand: 99,999 - 4 = 99,995 is odd at enc1_pool; valid sides are 572 + 16k, and 99,996 is the
    # last below the 100,000 bound.
    assert message(input_size=99_999).endswith(
        "enc1_pool receives 99995 pixels, but 2x2 max-pooling with stride 2 needs an even size; "
        "nearest valid sizes: 99996"
    )


def test_nearest_sizes_are_valid_and_nearest():
    for n in (190, 570, 1001, 4097):
        text = message(input_size=n)
        below, above = (int(x) for x in text.rsplit(": ", 1)[1].split(", "))
        assert below < n < above
        UNetConfig(input_size=below)
        UNetConfig(input_size=above)
        assert not any(valid_sizes(below + 1, above - 1))


def test_range_arguments_checked():
    with pytest.raises(ConfigError, match="max must not be below --min"):
        valid_size_table(700, 100)
    with pytest.raises(ConfigError, match="min must be between 1 and 100000; got 0"):
        valid_size_table(0, 100)


@given(
    depth=st.integers(1, 6),
    padding=st.sampled_from(["valid", "same"]),
    lo=st.integers(-5, 1500),
    span=st.integers(0, 700),
)
def test_the_listing_equals_tracing_every_side(depth, padding, lo, span):
    """valid_sides traces only one remainder class after the first valid side; a side-by-side trace agrees."""
    from unet_explain.core.arithmetic import is_valid_side, valid_sides

    every = [n for n in range(max(1, lo), lo + span + 1) if is_valid_side(n, depth, padding)]
    assert valid_sides(lo, lo + span, depth, padding) == every

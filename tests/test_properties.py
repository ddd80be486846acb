"""Property tests over random valid configurations (hypothesis)."""

from __future__ import annotations

import json

import pytest
import second_derivation as second
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from unet_explain import ConfigError, UNetConfig, build_spec, valid_sizes
from unet_explain.core import arithmetic
from unet_explain.render.text_formats import to_json


@st.composite
def configs(draw, max_side: int = 2000) -> UNetConfig:
    depth = draw(st.integers(1, 6))
    padding = draw(st.sampled_from(["valid", "same"]))
    sides = valid_sizes(1, max_side, depth=depth, padding=padding)
    assume(sides)
    return UNetConfig(
        input_size=(draw(st.sampled_from(sides)), draw(st.sampled_from(sides))),
        depth=depth,
        padding=padding,
        in_channels=draw(st.integers(1, 8)),
        num_classes=draw(st.integers(2, 10)),
        base_filters=draw(st.sampled_from([1, 2, 4, 16, 64])),
    )


@given(configs())
def test_skip_connections_crop_centrally(config):
    spec = build_spec(config)
    previous_out = None
    for stage in spec.stages:
        if stage.path == "expansive":
            assert stage.up_size == tuple(2 * s for s in previous_out)  # 2x2 stride-2 up-conv
            skip = spec.stage(stage.skip_from)
            assert stage.skip_size == skip.out_size and skip.level == stage.level
            for axis in (0, 1):
                margin = stage.skip_size[axis] - stage.up_size[axis]
                assert margin >= 0 and margin % 2 == 0
                assert stage.crop[axis] == margin // 2
            assert stage.concat_channels == skip.channels + stage.up_channels == 2 * stage.channels
            if config.padding == "same":
                assert stage.crop == (0, 0)
        previous_out = stage.out_size


@given(configs())
def test_output_size_follows_the_general_form(config):
    """input - output = 2c(3 * 2^d - 2) for valid padding (c = 2 convs per level); 0 for same."""
    spec = build_spec(config)
    lost = 2 * 2 * (3 * 2**config.depth - 2) if config.padding == "valid" else 0
    assert spec.totals.output_size == tuple(n - lost for n in config.input_size)


@given(configs())
def test_channels_double_down_and_halve_up(config):
    spec = build_spec(config)
    for stage in spec.stages:
        if stage.path in ("contracting", "expansive"):
            assert stage.channels == config.base_filters * 2 ** (stage.level - 1)
    assert spec.stage("bottleneck").channels == config.base_filters * 2**config.depth


@given(configs(), st.data())
def test_params_do_not_depend_on_the_tile(config, data):
    """Weights are shared across positions: another valid tile changes MACs, never parameters."""
    sides = valid_sizes(1, 2000, depth=config.depth, padding=config.padding)
    other = UNetConfig(**(config.as_dict() | {"input_size": data.draw(st.sampled_from(sides))}))
    assert build_spec(other).totals.params == build_spec(config).totals.params


@given(configs())
def test_totals_match_a_second_derivation_and_json_round_trips(config):
    spec = build_spec(config)
    size, c_in, k, d, b = config.input_size, config.in_channels, config.num_classes, config.depth, config.base_filters
    assert spec.totals.params == second.params(c_in, k, d, b)
    assert spec.totals.macs == second.macs(size, c_in, k, d, b, config.padding)
    assert json.loads(to_json(spec)) == spec.as_dict()
    assert spec.totals.conv_layers == 4 * config.depth + 2 + config.depth + 1


@given(st.integers(1, arithmetic.MAX_SIDE), st.integers(1, 6), st.sampled_from(["valid", "same"]))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_invalid_sizes_name_valid_neighbours(n, depth, padding):
    assume(not second.is_valid(n, depth, padding))
    with pytest.raises(ConfigError) as info:
        UNetConfig(input_size=n, depth=depth, padding=padding)
    text = str(info.value)
    neighbours = second.nearest_valid(n, depth, padding, limit=100_000)  # the documented upper bound
    assert neighbours, "there is always a valid size on one side"
    assert text.endswith(", ".join(map(str, neighbours)))
    for m in neighbours:
        UNetConfig(input_size=m, depth=depth, padding=padding)


@pytest.mark.keras
@pytest.mark.slow
@given(configs(max_side=400))
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_configs_match_keras(config):
    from unet_explain import build_model
    from unet_explain.model.verify import compare_model

    small = UNetConfig(**(config.as_dict() | {"base_filters": min(config.base_filters, 4)}))
    assert compare_model(small, build_model(small)).ok

"""Budgets that hold (issue 20): the memory estimate against the measured peak, and bounded weight maps.

The estimate of :mod:`unet_explain.core.budget` is checked against the peak
resident memory of a real ``verify`` in a child process (``RUSAGE_CHILDREN``):
it must be at or above the peak (a budget that holds) and not far above it (an
honest one). No wall-clock asserts: the machine is shared.
"""

from __future__ import annotations

import numpy as np
import pytest
from reliability_scratch import changed, one_line, run_measured, snapshot

from unet_explain import UNetConfig
from unet_explain.core.budget import RUNTIME_BYTES, check_memory, estimate
from unet_explain.errors import ConfigError


@pytest.mark.keras
@pytest.mark.slow
@pytest.mark.parametrize("base_filters", [8, 48])
def test_the_estimate_holds_the_measured_peak_of_verify(tmp_path, base_filters):
    measured = run_measured("verify", "--base-filters", str(base_filters), cwd=tmp_path)
    assert measured.code == 0, measured.stderr
    # verify builds two models (the package's and the independent one) and budgets both
    estimated = estimate(UNetConfig(base_filters=base_filters), models=2).bytes / 2**20
    assert measured.peak_mib <= estimated <= 1.5 * measured.peak_mib, (measured.peak_mib, estimated)


def test_the_estimate_counts_the_weights_their_copies_and_the_runtime():
    found = estimate(UNetConfig())
    assert found.params == 31_030_658  # the paper's network (checked against Keras in test_keras_model)
    assert found.bytes == RUNTIME_BYTES + 4 * (2 * found.params + found.largest_layer)
    # verify --base-filters 329 peaked at 6.6 GB while its weights-only estimate said 3.98 GiB: now refused.
    with pytest.raises(ConfigError, match=r"7\.7 GiB .* budget of 4\.0 GiB"):
        check_memory(UNetConfig(base_filters=329))


def test_several_models_in_one_process_add_up():
    config = UNetConfig(base_filters=128)
    one = check_memory(config)
    with pytest.raises(ConfigError, match="building its 6 Keras models"):
        check_memory(config, models=6)
    assert estimate(config, models=6).weights_bytes == 6 * one.weights_bytes


def test_a_huge_sigma_on_a_large_image_is_refused_in_one_line(tmp_path):
    # The report's case: a valid 4096x4096 image, 89 one-pixel cells, --sigma 10000 (70 s before).
    labels = np.zeros((4096, 4096), dtype=np.int32)
    spots = np.linspace(10, 4080, 89).astype(int)
    labels[spots, spots[::-1]] = np.arange(1, 90)
    np.save(tmp_path / "cells.npy", labels)
    before = snapshot(tmp_path)
    measured = run_measured("weight-map", "--labels", "cells.npy", "--sigma", "10000", cwd=tmp_path)
    assert measured.code == 2
    assert "--sigma 10000 with 89 cells" in one_line(measured.stderr)
    assert measured.peak_mib < 1024
    assert changed(before, snapshot(tmp_path)) == set()


def test_the_window_bound_refuses_a_numpy_sigma_too():
    from unet_explain.loss_weights import MAX_WINDOW_PIXELS, weight_map

    labels = np.zeros((4096, 4096), dtype=np.int32)
    labels[::700, ::700] = np.arange(1, 37).reshape(6, 6)
    with pytest.raises(ConfigError, match="distance transforms over"):
        weight_map(labels, sigma=np.float32(5000))  # a NumPy scalar is accepted, the work is not
    assert MAX_WINDOW_PIXELS <= 300_000_000

"""Choosing the largest tile that fits a budget: exact, and refused with one clear line when nothing fits."""

from __future__ import annotations

import pytest

from unet_explain.config import UNetConfig
from unet_explain.core import arithmetic as ar
from unet_explain.core.fit import candidate_sides, fit
from unet_explain.core.memory import memory_use
from unet_explain.core.spec import build_spec
from unet_explain.errors import ConfigError

GIB = 2**30


@pytest.fixture(scope="module")
def paper():
    return build_spec(UNetConfig())


def next_valid_side(side: int, config: UNetConfig) -> int:
    """The next side the network accepts, found by trying every size above (independent of the search)."""
    n = side + 1
    while not ar.is_valid_side(n, config.depth, config.padding):
        n += 1
    return n


@pytest.mark.parametrize("budget", [int(1.5 * GIB), 6 * GIB, 11 * GIB, 24 * GIB, 80 * GIB])
@pytest.mark.parametrize(("mode", "batch", "optimizer", "dtype"), [("train", 1, "sgd", "float32"),
                                                                  ("train", 4, "adam", "mixed"),
                                                                  ("infer", 2, "sgd", "float32")])  # fmt: skip
def test_the_chosen_tile_fits_and_the_next_does_not(paper, budget, mode, batch, optimizer, dtype):
    options = {"mode": mode, "batch": batch, "optimizer": optimizer, "dtype": dtype}
    answer = fit(paper, budget, **options)
    side = answer.chosen.tile[0]
    assert ar.is_valid_side(side, 4, "valid")
    assert memory_use(paper, tile=(side, side), **options).total <= budget
    bigger = next_valid_side(side, paper.config)
    assert memory_use(paper, tile=(bigger, bigger), **options).total > budget


def test_every_listed_batch_gets_its_largest_tile(paper):
    answer = fit(paper, 11 * GIB)
    batches = [c.batch for c in answer.candidates]
    assert batches[:4] == [1, 2, 4, 8]
    for c in answer.candidates:
        assert c.use.total <= 11 * GIB
        bigger = next_valid_side(c.tile[0], paper.config)
        assert memory_use(paper, tile=(bigger, bigger), batch=c.batch).total > 11 * GIB
    tiles = [c.tile[0] for c in answer.candidates]
    assert tiles == sorted(tiles, reverse=True)  # a bigger batch never gets a bigger tile
    # The list stops at the first batch size for which even the smallest tile is too big.
    last = answer.candidates[-1].batch
    assert memory_use(paper, tile=(188, 188), batch=2 * last).total > 11 * GIB


@pytest.mark.parametrize(("depth", "padding"), [(1, "valid"), (2, "valid"), (4, "valid"), (3, "same"), (5, "valid")])
def test_candidate_sides_are_exactly_the_valid_sides(depth, padding):
    brute = [n for n in range(1, 3001) if ar.is_valid_side(n, depth, padding)]
    spec = build_spec(UNetConfig(input_size=brute[-1], depth=depth, padding=padding))
    listed = candidate_sides(spec)
    assert listed[: len(brute)] == brute
    assert listed[-1] <= ar.MAX_SIDE < listed[-1] + 2**depth


def test_the_paper_tile_gives_its_output_compute_and_tiles(paper):
    answer = fit(paper, tile=572, image=(2048, 2048))
    chosen = answer.chosen
    assert chosen.output_tile == (388, 388)
    assert chosen.useful_fraction == pytest.approx(388**2 / 572**2)
    assert chosen.tiles_needed == 6 * 6  # ceil(2048 / 388) = 6 per axis
    # 150.43 G multiply-accumulates per 572x572 tile (unet-facts.md), over 388x388 output pixels.
    assert abs(chosen.macs_per_output_pixel * 388 * 388 - 150.43e9) < 0.01e9
    assert chosen.use == memory_use(paper)
    assert answer.budget is None and answer.fits and answer.candidates == ()


def test_json_contract(paper):
    data = fit(paper, 11 * GIB, batch=2, image=(1000, 1500)).as_dict()
    assert data["mode"] == "train" and data["batch"] == 2
    assert isinstance(data["tile"], list) and len(data["tile"]) == 2
    assert set(data["bytes"]) >= {"weights", "gradients", "optimizer", "activations", "total"}
    b = data["bytes"]
    assert b["total"] == b["weights"] + b["gradients"] + b["optimizer"] + b["activations"] + b["transient"]
    assert b["total"] <= 11 * GIB
    assert [c["batch"] for c in data["candidates"]][:3] == [1, 2, 4]
    assert all({"batch", "tile", "bytes"} <= set(c) for c in data["candidates"])
    given = fit(paper, tile=572).as_dict()
    assert "candidates" not in given and given["tile"] == [572, 572]


def test_a_budget_that_fits_nothing_names_the_smallest_tiles_need(paper):
    need = memory_use(paper, tile=(188, 188)).total
    with pytest.raises(ConfigError) as err:
        fit(paper, 100 * 2**20)
    message = str(err.value)
    assert err.value.argument == "memory"
    assert "188x188" in message and f"{need:,} bytes" in message
    assert f"at least {-(-need // 2**20)}MiB" in message


@pytest.mark.parametrize(
    ("kwargs", "argument", "fragment"),
    [({"budget": 0}, "memory", "got 0"), ({"budget": -5}, "memory", "got -5"),
     ({"budget": GIB, "batch": 0}, "batch", "got 0"),
     ({"tile": 570}, "tile", "nearest valid sizes: 556, 572"),
     ({"tile": 100}, "tile", "the smallest valid size is 188"),
     ({}, "memory", "--tile")],
)  # fmt: skip
def test_bad_input_is_one_clear_error(paper, kwargs, argument, fragment):
    with pytest.raises(ConfigError) as err:
        fit(paper, **kwargs)
    assert err.value.argument == argument
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_the_gpu_figure_marks_the_largest_tile_for_each_gpu(paper):
    import re

    from unet_explain.render.figures.gpu_fit import GPU_GIB, alt

    text = alt(paper)
    training = text.split("Largest inference tile")[0]
    found = dict((int(g), int(s)) for s, g in re.findall(r"(\d+) px on (\d+) GiB", training))
    assert sorted(found) == sorted(GPU_GIB)
    for gib, side in found.items():
        assert memory_use(paper, tile=(side, side)).total <= gib * GIB
        bigger = next_valid_side(side, paper.config)
        assert memory_use(paper, tile=(bigger, bigger)).total > gib * GIB

"""The site page "What fits on my GPU": its tables come from the package and say what they show."""

from __future__ import annotations

import re

from unet_explain.docs.memory_pages import memory_check, memory_table, nnunet_compare
from unet_explain.docs.memory_record import RECORD
from unet_explain.docs.site_config import Site


def test_memory_table_shows_the_hand_derived_figures():
    table = memory_table([], Site())
    assert "| 574,929,024 |" in table  # the view convention (test_paper_facts: about 575 MB)
    assert "| 231,948,288 |" in table  # crops and concatenations: about 232 MB (issue 21)
    assert "| 654,156,032 |" in table  # kept by a training step (test_memory.py, derived by hand)


def test_nnunet_comparison_says_where_it_under_and_overestimates():
    text = nnunet_compare([], Site())
    rows = re.findall(r"^\| (\d+x\d+) \|.*\| ([\d.]+) \|$", text, flags=re.M)
    assert len(rows) >= 3
    under = [tile for tile, ratio in rows if float(ratio) < 1]
    assert "188x188" in under  # the weights, gradients and momentum it does not count dominate a small tile
    sentence = text.strip().splitlines()[-1]
    for tile in under:
        assert tile in sentence.split("overestimates")[0]


def test_memory_check_shows_every_recorded_run():
    text = memory_check([], Site())
    first_table = text.split("The same measured growth")[0]
    body = re.findall(r"^\| [A-Z] \| (\d+) \| ([\d.]+) \| ([\d.]+) \|", first_table, flags=re.M)
    assert len(body) == len(RECORD)
    for (tile, _, measured), row in zip(body, RECORD, strict=True):
        assert int(tile) == row["tile"]
        assert measured == f"{int(row['measured_step']) / 2**20:.1f}"


def test_against_the_recorded_measurement_the_count_holds_and_the_views_are_a_lower_bound():
    """Issue 21: the view convention (crops and concatenations free) against real Keras steps, and our count."""
    from unet_explain.docs.memory_pages import check_rows

    grown = [row for row in check_rows() if not row["first"]]
    assert len(grown) >= 8
    for row in grown:
        measured = float(row["grow_measured"])
        assert abs(float(row["grow_predicted"]) / measured - 1) <= 0.10, row
        assert float(row["grow_views"]) < 0.9 * measured, row  # the convention misses the copies Keras makes

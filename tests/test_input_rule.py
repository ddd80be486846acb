"""One input rule on both sides: the CLI and the explorer page read the same typed values the same way.

The rule (config.parse_whole, config.parse_size): a whole number is written with the ASCII digits 0-9 (a count
may carry a sign); "1_0", "٥٧٢" and "５７２" are refused by both. Numbers are shown alike too: SI prefixes up
to E, memory in decimal units from MB up (never "368587573.1 MB").

The page's script runs in Node (no browser needed): ``window.unetExplorer.explore`` gets the same control
values that the CLI gets as flags.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from test_explorer import FLAGS
from test_explorer import cli_answer as explorer_cli_answer

from unet_explain.config import parse_whole
from unet_explain.errors import ConfigError
from unet_explain.render.explorer import SCRIPT
from unet_explain.render.formatting import mebibytes, megabytes, si

NODE_RUNNER = """
const fs = require("fs");
global.window = {};
global.document = { readyState: "complete", getElementById: () => null, addEventListener: () => {} };
eval(fs.readFileSync(process.argv[1], "utf8"));
const cases = JSON.parse(fs.readFileSync(0, "utf8"));
const answers = cases.map((raw) => {
  const r = window.unetExplorer.explore(raw);
  if (!r.ok) return { error: r.message };
  const cells = r.rows.map((row) => row.cells.map(String));
  const output = r.output.join("x");
  const total = String(r.total).replace(/\\B(?=(\\d{3})+(?!\\d))/g, ",");  // the page's count()
  cells.push(["total", "", "", "", `output ${output}`, "", "", total, r.macs, r.memory]);
  const margin = r.margin.every((m) => m === r.margin[0]) ? String(r.margin[0]) : r.margin.join("x");
  return { rows: cells, output, margin };
});
process.stdout.write(JSON.stringify(answers));
"""

# Typed values that once split the two sides, and their neighbours.
CASES: list[dict[str, str]] = [
    {"input-size": "٥٧٢"},
    {"input-size": "５７２"},
    {"input-size": "572x５７２"},
    {"in-channels": "1_0"},
    {"depth": "٤"},
    {"base-filters": "6_4"},
    {"num-classes": "+3"},
    {"depth": " 3 ", "input-size": "568", "padding": "same"},
    {"in-channels": "1e1"},
    {"depth": "-2"},
    # the extremes: prefixes above T and memory far beyond a GB
    {"input-size": "99968", "base-filters": "4096", "depth": "6", "padding": "same"},
    {"input-size": "99904x100000", "base-filters": "2048", "depth": "5", "padding": "same"},
    {"input-size": "60000", "base-filters": "512", "depth": "3", "padding": "same"},
    {"input-size": "572"},
]


def cli_answer(values: dict[str, str]) -> dict[str, object]:
    """What `unet-explain table` says: the explorer test's reading of the CLI, for the flags given here."""
    return explorer_cli_answer({flag: values.get(flag, "") for flag in FLAGS})


@pytest.fixture(scope="module")
def page_answers() -> list[dict[str, object]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    run = subprocess.run(
        [node, "-e", NODE_RUNNER, str(SCRIPT)],
        input=json.dumps(CASES),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answers: list[dict[str, object]] = json.loads(run.stdout)
    return answers


@pytest.mark.parametrize("index", range(len(CASES)), ids=[json.dumps(c, ensure_ascii=False) for c in CASES])
def test_cli_and_page_agree(index: int, page_answers: list[dict[str, object]]) -> None:
    expected = cli_answer(CASES[index])
    page = page_answers[index]
    assert page == expected
    assert "MB" not in json.dumps(page) or all(  # a unit that fits: never 1000 MB or more
        float(cell.split()[0]) < 1000 for row in page.get("rows", []) for cell in row if cell.endswith(" MB")
    )


def test_the_rule_refuses_what_int_would_take():
    for text in ("1_0", "٥٧٢", "５７２", "1e1", "", "4.0"):
        with pytest.raises(ConfigError, match="digits 0-9"):
            parse_whole(text, "depth")
    assert [parse_whole(t, "depth") for t in ("4", " 4 ", "+4", "-4")] == [4, 4, 4, -4]
    assert cli_answer({"in-channels": "1_0"}) == {
        "error": "unet-explain table: error: argument --in-channels: must be a whole number written with the "
        "digits 0-9, like 4; got '1_0' (see 'unet-explain table --help')"
    }
    assert "error" in cli_answer({"input-size": "٥٧٢"})


def test_extreme_numbers_keep_a_unit_that_fits():
    assert si(1.18433e15) == "1.18 P" and si(2.5e18) == "2.50 E"
    assert megabytes(368_587_573_100_000) == "368.6 TB"
    assert megabytes(574_929_024) == "574.9 MB"  # the paper's tile, as the table has always shown it
    assert megabytes(999_999_999) == "1.0 GB"  # rounds up into the next unit, not "1000.0 MB"
    # Keras's "MB" is MiB: the paper's 31,030,658 float32 weights, as model.summary() prints them.
    assert mebibytes(31_030_658 * 4) == "118.37 MiB"

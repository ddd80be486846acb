"""The size explorer page against the package: the same table as build_spec, the same error line as the CLI.

The page is driven the way a reader (or a script) uses it: each control is
found by its ``name``, the CLI flag without dashes, and filled in. For every
one of a few hundred seeded random configurations (valid and invalid sizes,
rectangular tiles, both paddings, depth 1 to 6, and flags the CLI rejects),
the page's answer is compared with ``unet_explain.cli.main`` run in-process on
the same flags, and its table with the spec's formatted cells; those are set
and read in one call (``FILL_AND_READ``), with the events that filling sends.
"""

from __future__ import annotations

import contextlib
import io
import json
import random

import pytest
from conftest import BROWSER_GROUP

from unet_explain import UNetConfig, build_spec
from unet_explain.cli import main
from unet_explain.core import arithmetic as ar
from unet_explain.render.explorer import COLUMNS, SCRIPT, current_block, generated_block
from unet_explain.render.formatting import rows, totals_cells

FLAGS = ("input-size", "depth", "base-filters", "in-channels", "num-classes", "padding")

READ_PAGE = """() => {
  const error = document.getElementById("explorer-error");
  if (error) return {error: error.textContent};
  const table = document.getElementById("explorer-table");
  if (!table) return {missing: document.getElementById("explorer-result").textContent};
  return {
    rows: Array.from(table.tBodies[0].rows, (tr) => Array.from(tr.cells, (td) => td.textContent)),
    output: document.getElementById("explorer-output-size").textContent,
    margin: (document.getElementById("explorer-output").textContent.match(/margin (\\S+) px per side/) || [])[1],
  };
}"""


def test_generated_block_of_the_script_is_fresh():
    """The script's constants are the package's; `python -m unet_explain.render.explorer` refreshes them."""
    assert current_block(SCRIPT.read_text(encoding="utf-8")) == generated_block()


def cli_answer(values: dict[str, str]) -> dict[str, object]:
    """What `unet-explain table` says for these control values (an empty control is a flag left out)."""
    argv = ["table", "--format", "json"]
    for flag in FLAGS:
        if values[flag] != "":
            argv += [f"--{flag}", values[flag]]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as stop:  # argparse's own errors
            code = int(stop.code or 0)
    if code:
        lines = err.getvalue().strip().splitlines()
        assert len(lines) == 1, err.getvalue()
        return {"error": lines[0]}
    config = json.loads(out.getvalue())["config"]
    spec = build_spec(UNetConfig(**{**config, "input_size": tuple(config["input_size"])}))
    expected = [[row.cells[c] for c in COLUMNS] for row in rows(spec)]
    totals = totals_cells(spec)
    expected.append([totals.get(c, "") for c in COLUMNS])
    output = "x".join(map(str, (*spec.totals.output_size, spec.config.num_classes)))
    margins = spec.totals.context_margin
    margin = str(margins[0]) if len(set(margins)) == 1 else "x".join(map(str, margins))
    return {"rows": expected, "output": output, "margin": margin}


def random_values(rng: random.Random) -> dict[str, str]:
    """One random set of control values: mostly sensible, some valid sizes, some odd flags."""

    def odd(choices: list[str], normal: str) -> str:
        return rng.choice(choices) if rng.random() < 0.07 else normal

    depth = rng.randint(1, 6)
    padding = rng.choice(["valid", "same"])

    def side() -> int:
        n = rng.randint(1, 2600)
        if rng.random() < 0.55:  # a size the network takes
            below, above = ar.nearest_valid_sides(n, depth, padding)
            return above or below or n
        return n

    h = side()
    size = str(h)
    if rng.random() < 0.3:
        w = side()
        size = rng.choice([f"{h}x{w}", f"{h} x {w}", f"{h}X{w}", f"{h}×{w}"])
    elif rng.random() < 0.2:  # a volume, or a size of four numbers
        w, d = side(), side()
        size = rng.choice([f"{h}x{w}x{d}", f"{h}x{h}x{d}", f"{h} x {w} x {d}", f"{h}x{w}x{d}x3"])
    values = {
        "input-size": odd(["", "0", "100001", "abc", "-5", " 572", "572x", "12.5", "-x", "٥٧٢", "５７２"], size),
        "depth": odd(["", "0", "7", "-1", "abc", "4.0", " 3 ", "+2", "1_0", "-"], str(depth)),
        "base-filters": odd(["", "0", "4097", "x", "16_0"], str(rng.choice([1, 2, 8, 16, 32, 64, 100]))),
        "in-channels": odd(["", "0", "4096", "5000", "3 ", "1_0", "３"], str(rng.randint(1, 4))),
        "num-classes": odd(["", "1", "4096", "-2", "two"], str(rng.randint(2, 10))),
        "padding": padding,
    }
    return values


# The tests share one page (the first one checks it before any typing): one worker runs them all, in order,
# the worker that runs every test driving Chromium.
pytestmark = pytest.mark.xdist_group(BROWSER_GROUP)


@pytest.fixture(scope="module")
def page(served_site, browser):
    base, _ = served_site
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda err: problems.append(str(err)))
    page.goto(base + "explorer/", wait_until="load")
    page.problems = problems  # type: ignore[attr-defined]
    yield page
    page.close()


def fill(page, values: dict[str, str]) -> None:
    for flag in FLAGS:
        if flag == "padding":
            page.select_option(f"[name={flag}]", values[flag])
        else:
            page.fill(f"[name={flag}]", values[flag])


# Many configurations in one call: for each, every control (found by its name) gets its value and the events
# page.fill and page.select_option send (input; and change, for the select), then the page is read.
FILL_AND_READ = f"""(configs) => configs.map((values) => {{
  for (const [name, value] of Object.entries(values)) {{
    const control = document.querySelector(`[name="${{name}}"]`);
    control.value = value;
    control.dispatchEvent(new Event("input", {{bubbles: true}}));
    if (control.tagName === "SELECT") control.dispatchEvent(new Event("change", {{bubbles: true}}));
  }}
  return ({READ_PAGE})();
}})"""


@pytest.mark.browser
@pytest.mark.slow
def test_page_shows_the_paper_on_load(page):
    """On a normal page load, before any typing, the page shows the default config's table."""
    assert page.evaluate(READ_PAGE) == cli_answer(dict(zip(FLAGS, ("572", "4", "64", "1", "2", "valid"), strict=True)))
    names = page.eval_on_selector_all("#unet-explorer [name]", "els => els.map(e => e.name)")
    assert names == list(FLAGS)


@pytest.mark.browser
@pytest.mark.slow
def test_typing_an_invalid_size_shows_the_cli_error_and_the_way_out(page):
    fill(page, dict(zip(FLAGS, ("572", "4", "64", "1", "2", "valid"), strict=True)))
    page.fill("[name=input-size]", "")
    page.type("[name=input-size]", "570")  # key by key, as a reader types
    shown = page.evaluate(READ_PAGE)
    assert shown == cli_answer(dict(zip(FLAGS, ("570", "4", "64", "1", "2", "valid"), strict=True)))
    assert "enc2_pool receives 279 pixels" in shown["error"] and shown["error"].endswith("556, 572")
    page.click("button[data-size='572']")
    assert page.input_value("[name=input-size]") == "572"
    assert page.evaluate(READ_PAGE)["output"] == "388x388x2"


@pytest.mark.browser
@pytest.mark.slow
def test_a_size_wrong_along_both_axes_names_both(page):
    values = dict(zip(FLAGS, ("100x200", "4", "64", "1", "2", "valid"), strict=True))
    fill(page, values)
    shown = page.evaluate(READ_PAGE)
    assert shown == cli_answer(values)
    assert "along the rows, enc4_pool receives 5 pixels" in shown["error"]
    assert "along the columns, enc3_pool receives 43 pixels" in shown["error"]
    page.click("button[data-axis='columns'][data-size='204']")  # fixes the columns only
    assert page.input_value("[name=input-size]") == "100x204"
    page.click("button[data-axis='rows'][data-size='188']")
    assert page.input_value("[name=input-size]") == "188x204"
    assert page.evaluate(READ_PAGE) == cli_answer(values | {"input-size": "188x204"})


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize(
    ("size", "depth", "padding", "margin"),
    [("572", "4", "valid", "92"), ("188x204", "4", "valid", "92"), ("94x110", "1", "valid", "8"),
     ("64x96", "3", "same", "0")],
)  # fmt: skip
def test_the_context_margin_on_the_page_is_the_specs(page, size, depth, padding, margin):
    """By hand: (572 - 388) / 2 = 92; depth 1 loses 2 * 2 * (3 * 2 - 2) = 16, so 8 per side; same pads: 0."""
    values = dict(zip(FLAGS, (size, depth, "8", "1", "2", padding), strict=True))
    fill(page, values)
    shown = page.evaluate(READ_PAGE)
    assert shown["margin"] == margin
    assert shown == cli_answer(values)


@pytest.mark.browser
@pytest.mark.slow
def test_page_agrees_with_the_package_on_random_configs(page):
    rng = random.Random(1505_04597)
    outcomes = {"valid": 0, "invalid size": 0, "other error": 0}
    rectangular = same = 0
    configs = [random_values(rng) for _ in range(240)]
    for values, shown in zip(configs, page.evaluate(FILL_AND_READ, configs), strict=True):
        expected = cli_answer(values)
        assert shown == expected, values
        if "error" not in expected:
            outcomes["valid"] += 1
        elif "--input-size" in str(expected["error"]) and "is not valid" in str(expected["error"]):
            outcomes["invalid size"] += 1
        else:
            outcomes["other error"] += 1
        rectangular += "x" in values["input-size"].lower() or "×" in values["input-size"]
        same += values["padding"] == "same"
    assert page.problems == []  # type: ignore[attr-defined]
    # The sample covers what it claims to.
    assert outcomes["valid"] >= 60 and outcomes["invalid size"] >= 40 and outcomes["other error"] >= 20, outcomes
    assert rectangular >= 40 and same >= 60


@pytest.mark.browser
@pytest.mark.slow
def test_a_volume_in_the_explorer(page):
    """Three numbers are a volume, as on the command line: its table, or its error naming the axis."""
    values = dict(zip(FLAGS, ("132x132x116", "3", "32", "3", "3", "valid"), strict=True))
    fill(page, values)
    shown = page.evaluate(READ_PAGE)
    assert shown == cli_answer(values) and shown["output"] == "44x44x28x3"
    headers = page.eval_on_selector_all("#explorer-table th", "els => els.map(e => e.textContent)")
    assert "3x3x3 convs + ReLU" in headers and "Max-pool 2x2x2" in headers
    fill(page, values | {"input-size": "572x572x60"})
    shown = page.evaluate(READ_PAGE)
    assert shown == cli_answer(values | {"input-size": "572x572x60"})
    assert "along the slices, bottleneck_conv2 receives 2 voxels" in shown["error"]
    page.click("button[data-axis='slices'][data-size='92']")
    assert page.input_value("[name=input-size]") == "572x572x92"
    fill(page, values | {"input-size": "132x132x116x3"})
    assert "has 4 numbers" in page.evaluate(READ_PAGE)["error"]

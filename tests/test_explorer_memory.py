"""The explorer's training bytes (its JavaScript port of core/memory.py) equal the Python count, byte for byte.

The script is loaded into a blank page of headless Chromium and asked, for
seeded random configurations (both paddings, rectangular tiles, depth 1 to 6),
what a training step holds; :func:`unet_explain.core.memory.memory_use` must
give the same weights, gradients, optimizer state, activations and transient.
"""

from __future__ import annotations

import random

import pytest
from conftest import BROWSER_GROUP

from unet_explain import UNetConfig, build_spec
from unet_explain.core import arithmetic as ar
from unet_explain.core.memory import memory_use
from unet_explain.render.explorer import SCRIPT

FIELDS = ("weights", "gradients", "optimizer", "activations", "transient", "total")

ASK = """(configs) => configs.map((raw) => {
  const r = window.unetExplorer.explore(raw);
  return r.ok ? Object.fromEntries(Object.entries(r.train).map(([k, v]) => [k, v.toString()])) : r.message;
})"""


def random_configs(count: int, seed: int = 18) -> list[UNetConfig]:
    rng = random.Random(seed)
    found: list[UNetConfig] = [UNetConfig()]
    while len(found) < count:
        depth, padding = rng.randint(1, 6), rng.choice(ar.PADDINGS)
        valid = ar.valid_sides(1, 900, depth, padding)
        if not valid:
            continue
        size = (rng.choice(valid[:40]), rng.choice(valid[:40]))
        found.append(
            UNetConfig(input_size=size, depth=depth, padding=padding, base_filters=rng.choice((1, 3, 8, 16, 64)),
                       in_channels=rng.randint(1, 4), num_classes=rng.randint(2, 5))
        )  # fmt: skip
    return found


def as_flags(config: UNetConfig) -> dict[str, str]:
    h, w = config.input_size
    settings = {"depth": config.depth, "base-filters": config.base_filters, "in-channels": config.in_channels,
                "num-classes": config.num_classes, "padding": config.padding}  # fmt: skip
    return {"input-size": f"{h}x{w}"} | {flag: str(value) for flag, value in settings.items()}


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.xdist_group(BROWSER_GROUP)
def test_explorer_training_bytes_equal_pythons(browser):
    configs = random_configs(120)
    page = browser.new_page()
    try:
        page.set_content("<!doctype html><html><body></body></html>")
        page.add_script_tag(content=SCRIPT.read_text(encoding="utf-8"))
        answers = page.evaluate(ASK, [as_flags(c) for c in configs])
    finally:
        page.close()
    for config, answer in zip(configs, answers, strict=True):
        expected = memory_use(build_spec(config)).as_dict()
        assert isinstance(answer, dict), (config, answer)
        assert {k: int(answer[k]) for k in FIELDS} == {k: expected[k] for k in FIELDS}, config

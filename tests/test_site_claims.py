"""Sites built for other networks say only true things about them (a grid of configurations).

Every page's placeholders are expanded for each network of the grid (both paddings, depths 1 to 6, a
rectangular tile), as ``docs build`` expands them, and the sentences that depend on the configuration are
checked against the spec and the exact receptive-field analysis. Figures and the pages that build Keras
models are left out: they say nothing that depends on the padding in words, and they cost minutes.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from unet_explain import UNetConfig, build_spec
from unet_explain.config import format_size_arg
from unet_explain.core import arithmetic as ar
from unet_explain.core.receptive_field import analyse
from unet_explain.render.formatting import si

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "docs").rglob("*.md"))
SKIPPED = {"diagram", "figure", "tiling", "weight-map", "summary", "verify", "compare", "variant-gap", "audit"}


def _config(depth: int, padding: str, size: tuple[int, int] = (572, 572)) -> UNetConfig:
    """The smallest valid tile at least ``size`` for this depth and padding."""
    sides = []
    for side in size:
        above = ar.nearest_valid_sides(side, depth, padding)[1]
        sides.append(side if ar.is_valid_side(side, depth, padding) else above)
    return UNetConfig(input_size=(sides[0], sides[1]), depth=depth, padding=padding)  # type: ignore[arg-type]


GRID = [_config(d, p) for p in ("valid", "same") for d in range(1, 7)] + [
    _config(4, "valid", (572, 636)),
    _config(3, "same", (568, 700)),
]


def _flags(config: UNetConfig) -> tuple[str, ...]:
    return ("--input-size", format_size_arg(config.input_size), "--depth", str(config.depth),
            "--padding", config.padding)  # fmt: skip


@cache
def site_text(config: UNetConfig, cache_dir: Path) -> dict[str, str]:
    """Each page's markdown with its text placeholders expanded for ``config`` (built once per config)."""
    from unet_explain.docs.cache import Cache
    from unet_explain.docs.placeholders import PLACEHOLDER, expand
    from unet_explain.docs.site_config import Site

    store = Cache(cache_dir, Site(flags=_flags(config), root=ROOT))
    pages = {}
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        text = PLACEHOLDER.sub(lambda m: "" if m.group(1) in SKIPPED else m.group(0), text)
        pages[page.relative_to(ROOT / "docs").as_posix()] = expand(text, page.name, store)
    return pages


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("claims-cache")


def _plain(text: str) -> str:
    """Markdown to words: no emphasis, tags or line breaks in the way of a phrase."""
    text = re.sub(r"<[^>]+>", "", text).replace("**", "").replace("`", "")
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize("config", GRID, ids=[c.describe() for c in GRID])
def test_the_pages_say_only_true_things(config: UNetConfig, cache_dir: Path) -> None:
    pages = {name: _plain(text) for name, text in site_text(config, cache_dir).items()}
    every = " ".join(pages.values())
    spec = build_spec(config)
    field = analyse(spec)
    assert "{{" not in every and "{% " not in every

    # Padding: what shrinks, what is cropped, what overlaps.
    valid = config.padding == "valid"
    for phrase in (
        "two unpadded 3x3 convolutions",
        "The crop is needed because the two maps do not have the same size",
        "Because every convolution is unpadded",
        "Why the copies must be cropped",
        "overlap by twice the margin",
    ):
        assert (phrase in every) == valid, phrase
    assert ('two padded ("same") 3x3 convolutions' in every) == (not valid)
    crops = [s.crop[0] for s in spec.stages if s.crop is not None]
    index = pages["index.md"]
    assert (f"crops its skip connections by {_and(crops)} pixels per side" in index) == valid
    assert ("needs no crop in its skip connections" in index) == (not valid)
    for phrase in ("follow the paper to the pixel", "the convolutions are padded"):
        assert (phrase in index) == valid, phrase
    assert ("a 3x3 convolution without padding" in pages["walkthrough/contracting-path.md"]) == valid

    # The bottleneck: what its convolutions take from a side, and whether it is the cheapest level.
    bottleneck = pages["walkthrough/bottleneck.md"]
    b = spec.stage("bottleneck")
    assert ("two convolutions take" in bottleneck) == valid
    assert (f"{b.in_size[0]} − {b.out_size[0]} pixels from each side" in bottleneck) == valid
    cheapest = min((s for s in spec.stages if s.path in ("contracting", "expansive")), key=lambda s: s.macs)
    assert ("The bottleneck is cheap in compute" in bottleneck) == (b.macs < cheapest.macs)
    if b.macs >= cheapest.macs:
        assert f"its {si(b.macs)} multiply-accumulates are more than the {si(cheapest.macs)}" in bottleneck
    h, w = spec.totals.output_size
    assert f"outputs a {h}x{w} map" in pages["index.md"]

    # The receptive field: as many widths as the analysis finds, and uniform fields only where they are.
    widths = sorted(set(field.rows.sizes) | set(field.cols.sizes))
    rf = pages["walkthrough/receptive-field.md"]
    if len(widths) == 2:
        assert f"either {widths[0]} or {widths[1]} pixels wide" in rf
    else:
        assert not re.search(r"either \d+ or \d+ pixels wide", rf)
        assert (f"{widths[0]} pixels wide" if len(widths) == 1 else f"one of {len(widths)} widths") in rf
    # The console's note: every width the analysis finds, never "A or B" when there are more.
    sits = re.search(r"where the output pixel sits: ([^:|]*?) pixels, where the recursion", rf)
    assert sits, "the receptive-field console note"
    if len(widths) <= 2:
        assert sits.group(1) == " or ".join(map(str, widths))
    else:
        assert sits.group(1) == f"one of {len(widths)} widths from {widths[0]} to {widths[-1]}"
    down = [s for s in spec.stages if s.path in ("contracting", "bottleneck")]
    uniform = all(min(field.stages[s.name].smallest) == max(field.stages[s.name].largest) for s in down)
    assert ("every unit of a stage has the same field" in rf) == uniform
    enc1 = field.stages["enc1"]
    if min(enc1.smallest) == max(enc1.largest):
        assert f"every unit of enc1 sees {max(enc1.largest)} pixels" in rf
    else:
        assert f"the units of enc1 see {min(enc1.smallest)} to {max(enc1.largest)} pixels" in rf


@pytest.mark.parametrize("config", GRID, ids=[c.describe() for c in GRID])
def test_the_texts_made_outside_the_pages_are_true(config: UNetConfig) -> None:
    """The tiles figure's text, the variants' build notes and the compare table's first column."""
    from unet_explain.docs.keras_pages import paper_column
    from unet_explain.model.variants import VARIANTS, variant_config
    from unet_explain.render.figures import tiles

    spec = build_spec(config)
    alt = tiles.alt(spec)
    margin = spec.totals.context_margin[1]
    if config.padding == "same":
        assert "need no overlap and no mirrored border" in alt and "zeros of the padding" in alt
        assert "overlap by" not in alt and "mirrored by" not in alt
    else:
        assert f"overlap by {2 * margin} px, twice the {margin} px context margin" in alt
        assert f"mirrored by {margin} px" in alt

    for name, variant in VARIANTS.items():
        built, note = variant_config(name, config)
        assert bool(note) == (built.input_size != config.input_size), name
        multiple = re.search(r"needs a multiple of (\d+)", note)
        if multiple:  # only said where it is the rule, and where the site's tile breaks it
            n = int(multiple.group(1))
            assert variant.padding == "same" and n == 2**config.depth
            assert any(side % n for side in config.input_size)
            assert all(side % n == 0 for side in built.input_size)
        elif note:
            assert f"is not a valid tile for padding {variant.padding!r}" in note
            assert not all(ar.is_valid_side(s, config.depth, variant.padding) for s in config.input_size)

    label, note = paper_column(config)
    built = variant_config("paper", config)[0]
    assert (label == "paper") == (built == UNetConfig())
    if label != "paper":
        assert f"{build_spec(built).totals.params:,} parameters" in note
        assert f"the paper's own network has {build_spec(UNetConfig()).totals.params:,}" in note


def _and(items: list[int]) -> str:
    words = [str(i) for i in items]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def test_the_grid_covers_both_paddings_every_depth_and_a_rectangle():
    assert {(c.padding, c.depth) for c in GRID} == {(p, d) for p in ("valid", "same") for d in range(1, 7)}
    assert any(c.input_size[0] != c.input_size[1] for c in GRID if c.padding == "valid")
    assert any(c.input_size[0] != c.input_size[1] for c in GRID if c.padding == "same")

"""The generated parts of the "From 2D to 3D" page: numbers from the spec, checked against the papers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from unet_explain.config import preset
from unet_explain.core.spec import build_spec
from unet_explain.docs import volume_page as page
from unet_explain.docs.cache import Cache
from unet_explain.docs.placeholders import expand
from unet_explain.docs.site import build_site, site_flags
from unet_explain.docs.site_config import Site, with_site

VOLUME, IMAGE = page.configs_for(preset("unet"))


def test_the_page_compares_the_sites_network_with_the_other_paper():
    assert (preset("3d-unet"), preset("unet")) == (VOLUME, IMAGE)
    own = preset("3d-unet", input_size=(140, 140, 92))
    assert page.configs_for(own) == (own, preset("unet"))


def test_size_trace_and_crops_follow_the_paper():
    trace = page.size_trace(VOLUME)
    assert "| slices | 116 | → 114 → 112 ⇣ 56" in trace and "⇡ 32 → 30 → 28 | 28 |" in trace
    crops = page.crop_rules(VOLUME)
    assert "| dec1 | 128x128x112 | 48x48x32 | 40, 40, 40 |" in crops and "44, 44, 44 voxels" in crops


def test_valid_size_rule_names_the_smallest_side():
    text = page.valid_size_rules(preset("3d-unet", input_size=(572, 572, 92)))
    assert "| slices | 92 | yes | - | 100 |" in text
    assert "no axis can go below 92" in text and "output = side - 88" in text


def test_memory_of_a_3d_tile_against_a_2d_tile():
    text = page.memory_comparison(VOLUME, IMAGE)
    assert "| 3D U-Net | 132x132x116 | 44x44x28 | 2,021,184 | 54,208 | 2.7% |" in text
    assert "| 2D U-Net | 572x572 | 388x388 | 327,184 | 150,544 | 46.0% |" in text


def test_the_largest_cube_that_fits_really_fits_and_the_next_does_not():
    text = page.why_tiles_are_small(VOLUME, budgets=(4 * 2**30,))
    side = int(re.search(r"\| (\d+)x\1x\1 \|", text).group(1))
    cost = build_spec(preset("3d-unet", input_size=(side,) * 3)).totals.activation_bytes
    bigger = build_spec(preset("3d-unet", input_size=(side + 8,) * 3)).totals.activation_bytes
    assert cost <= 4 * 2**30 < bigger


def test_parameter_derivation_reaches_the_papers_figure_and_keras():
    text = page.parameter_derivation(VOLUME)
    assert "512 + 256 + 128 = **896**" in text
    assert "19,070,851 - 896 = **19,069,955**" in text and "The paper reports 19,069,955: equal to step 3" in text
    assert "= **19,080,195**" in text and "| dec3_upconv | 2x2x2 x 512 x 512 + 512 | 2,097,664 |" in text
    assert "paper reports" not in page.parameter_derivation(preset("3d-unet", base_filters=16))


# --- the page in the site, and the whole site for the 3D network ------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
VOLUME_SITE = pytest.mark.xdist_group("volume-site")  # the tests that share the 3D site's docs cache, in this order


@pytest.fixture(scope="module")
def volume_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 3D U-Net site's docs cache for the module (fresh for each run): the whole site's build takes the
    pages these tests expanded from it (the cache is keyed by content, so they are the items it would make)."""
    return tmp_path_factory.mktemp("volume-site-cache")


def test_the_volume_placeholder_follows_the_site(tmp_path):
    image_site = Cache(tmp_path / "a", Site())
    assert "| 3D U-Net | 132x132x116 |" in expand("{{ volume memory }}", "i.md", image_site)
    own = preset("3d-unet", input_size=(140, 140, 100))
    volume_site = Cache(tmp_path / "b", Site(flags=site_flags(own)))
    assert "| 3D U-Net | 140x140x100 | 52x52x12 |" in expand("{{ volume memory }}", "i.md", volume_site)
    assert with_site(["--volume"], Site()) == ["--preset", "3d-unet"]
    assert with_site(["--volume"], Site(flags=site_flags(own))) == list(site_flags(own))


@VOLUME_SITE
def test_a_volume_site_draws_2d_figures_for_its_rows_and_columns(volume_cache):
    cache = Cache(volume_cache, Site(flags=site_flags(preset("3d-unet"))))
    text = expand("{{ figure pooling }}", "walkthrough/contracting-path.md", cache)
    assert "drawn for the rows and columns of the 132x132x116 volume" in text
    params = expand("{{ stage-params bottleneck }}", "i.md", cache)
    assert "| `bottleneck_conv2` | 3 × 3 × 3 | 256 → 512 | 27 · 256 · 512 + 512 | 3,539,456 |" in params
    assert "| `bottleneck_conv2_bn` | batch norm | 512 → 512 | 4 · 512 | 2,048 |" in params


def _pages(cache: Cache, *names: str) -> dict[str, str]:
    return {
        name: expand((ROOT / "docs" / "walkthrough" / f"{name}.md").read_text(), f"walkthrough/{name}.md", cache)
        for name in names
    }


@VOLUME_SITE
def test_a_volume_site_states_the_volume_networks_counts_and_channels(tmp_path, volume_cache):
    volume = build_spec(preset("3d-unet"))
    pages = _pages(
        Cache(volume_cache, Site(flags=site_flags(preset("3d-unet")))),
        "bottleneck",
        "expansive-path",
        "costs",
        "contracting-path",
    )
    bottleneck = pages["bottleneck"]
    # the volume's weights: 27 · Cin · Cout, its own totals, sizes with the slice axis; no 2D figure of counts
    assert "27 · C<sub>in</sub> · C<sub>out</sub> weights" in bottleneck and "9 · C<sub>in</sub>" not in bottleneck
    stage = next(s for s in volume.stages if s.name == "bottleneck")
    assert f"{stage.params:,} of the\nnetwork's {volume.totals.params:,}" in bottleneck
    assert "**13x13x11** in, **9x9x7** out" in bottleneck and "13x13 in" not in bottleneck
    assert "6,827,331" not in bottleneck and "9·C" not in bottleneck
    # the 3D U-Net's up-convolutions keep their channels (dec3: 512 -> 512)
    dec3 = next(s for s in volume.stages if s.name == "dec3")
    assert dec3.up_channels == 512 and "(`dec3`: 512 in, 512 out)" in pages["expansive-path"]
    assert "halves the number of channels" not in pages["expansive-path"] and "C/2" not in pages["expansive-path"]
    assert "x512" not in pages["expansive-path"]
    # the exercise asks about a channel count the site does not already have
    one = build_spec(preset("3d-unet", in_channels=1)).totals
    assert f"**{one.params:,}** parameters against {volume.totals.params:,}" in pages["costs"]
    assert "with 3 input channels" not in pages["costs"]
    assert "27 · C<sub>in</sub> · C<sub>out</sub> + C<sub>out</sub> parameters" in pages["contracting-path"]
    assert "sqrt(2 / (27 · 3)) ≈ 0.157" in pages["contracting-path"]
    enc1_grey = next(s for s in build_spec(preset("3d-unet", in_channels=1)).stages if s.name == "enc1")
    assert f"**{enc1_grey.params:,}** instead of" in pages["contracting-path"]
    assert "27 · 32 weights per input channel" in pages["contracting-path"]
    # the fit and tiling consoles take the volume's sides (no usage error on the page); no 2D memory figure
    fit = expand(
        (ROOT / "docs" / "fit.md").read_text(),
        "fit.md",
        Cache(volume_cache, Site(flags=site_flags(preset("3d-unet")))),
    )
    tiling = _pages(Cache(volume_cache, Site(flags=site_flags(preset("3d-unet")))), "tiling")["tiling"]
    assert "error:" not in fit and "512x512x256" in fit and "Largest training tile" not in fit
    assert "has 2 sides, but the network takes a volume" not in tiling and "400x400x200 volume" in tiling
    # the 2D paper's site keeps its own statements
    paper = _pages(Cache(tmp_path / "p", Site()), "bottleneck", "expansive-path", "costs")
    assert "9 · C<sub>in</sub> · C<sub>out</sub> weights" in paper["bottleneck"]
    assert "halves the number of channels" in paper["expansive-path"]
    assert "with 3 input channels" in paper["costs"] and "{{" not in "".join(paper.values())


@VOLUME_SITE
@pytest.mark.slow
@pytest.mark.keras
def test_the_whole_site_builds_strict_for_the_3d_unet(tmp_path, volume_cache, seed_docs_cache):
    seed_docs_cache(volume_cache.iterdir())  # the pages the tests above expanded; the build makes the others
    folder, _ = build_site(tmp_path / "site", ROOT / "mkdocs.yml", config=preset("3d-unet"))
    page = (folder / "from-2d-to-3d" / "index.html").read_text(encoding="utf-8")
    assert "19,069,955" in page and "19,080,195" in page and "{{" not in page
    costs = (folder / "walkthrough" / "costs" / "index.html").read_text(encoding="utf-8")
    assert "19,080,195" in costs


def test_trainable_and_non_trainable_counts_are_set_against_the_paper():
    text = page.parameter_derivation(VOLUME)
    assert (
        "Trainable in Keras: 19,075,523 = the paper's 19,069,955 + 896 up-convolution biases + 4,672 BN scales and "
        "shifts; not trainable: 4,672" in text
    )

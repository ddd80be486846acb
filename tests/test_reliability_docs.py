"""Every valid network builds its site (issue 20): the pages' placeholders work at every depth, both paddings.

The smallest valid network of every depth 1-6 and both paddings has every page
of docs/ expanded (all placeholders: numbers, tables, figures); the Keras pages
(summary, verify, the variants, the audit) are expanded for depth 1, the
smallest networks there are, and a real ``docs build`` runs for the report's
two failing cases. A network whose Keras pages do not fit the memory budget is
refused before MkDocs starts (tests/test_reliability_cli.py).

The expansions (``expand_pages``, tests/conftest.py) go to one docs cache kept for
the module (its items are keyed by content: the package's source, the site's
flags, the placeholder).
The depth-1 networks' Keras test finds their text placeholders and light figures
already made by the smallest-network test (which draws light figures only, but
for depth 6 valid), and the real builds find every placeholder
expanded, by the same code, in the cache they read: the builds add MkDocs, the
hooks and the command line to what the expansions check. The tests that share a
network's cache run in one xdist group, in this order.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_scratch import ROOT, changed, cli, snapshot

from unet_explain.config import UNetConfig
from unet_explain.core.arithmetic import valid_sides

PAGES = sorted((ROOT / "docs").rglob("*.md"))
DEPTH_1 = pytest.mark.xdist_group("reliability-docs-depth-1")  # the tests that share the depth-1 networks' items
SMALLEST = [
    pytest.param(
        depth,
        padding,
        valid_sides(1, 100_000, depth, padding)[0],
        id=f"depth{depth}-{padding}",
        marks=[DEPTH_1] if depth == 1 else [],
    )
    for depth in range(1, 7)
    for padding in ("valid", "same")
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's docs cache, for every network (fresh for each run; its items are keyed by the site's flags)."""
    return tmp_path_factory.mktemp("docs-cache")


def test_the_smallest_sizes_are_the_arithmetic():
    assert [p.values[2] for p in SMALLEST] == [18, 2, 44, 4, 92, 8, 188, 16, 380, 32, 764, 64]


@pytest.mark.slow
@pytest.mark.parametrize(("depth", "padding", "size"), SMALLEST)
def test_every_page_expands_for_the_smallest_network(cache_dir, expand_pages, monkeypatch, depth, padding, size):
    # Each figure in its light drawing only: the dark one draws the same geometry in other colours (the paper's
    # site and the other whole-site builds draw both), and the geometry is what a tiny network can break. The
    # deepest network draws both, and depth 1's Keras test below draws its dark ones.
    if (depth, padding) != (6, "valid"):
        monkeypatch.setattr("unet_explain.docs.figures.THEMES", ("light",))
    config = UNetConfig(input_size=size, depth=depth, padding=padding)
    assert expand_pages(config, cache_dir, keras=False).pages == len(PAGES)  # a PlaceholderError fails the case


@DEPTH_1
@pytest.mark.keras
@pytest.mark.slow
@pytest.mark.parametrize(("padding", "size"), [("valid", 18), ("same", 2)])
def test_the_keras_pages_expand_for_depth_1(cache_dir, expand_pages, padding, size):
    config = UNetConfig(input_size=size, depth=1, padding=padding)
    assert expand_pages(config, cache_dir, keras=True).pages == len(PAGES)


@pytest.mark.slow
@pytest.mark.keras
@pytest.mark.parametrize(
    ("argv", "config"),
    [
        pytest.param(["--depth", "1", "--input-size", "18"], UNetConfig(input_size=18, depth=1), marks=DEPTH_1),
        (["--padding", "same", "--input-size", "16"], UNetConfig(input_size=16, padding="same")),
    ],
)
def test_the_reports_failing_sites_build(tmp_path, cache_dir, expand_pages, seed_docs_cache, argv, config):
    # Every placeholder of the network, Keras pages included, expanded in-process (taken from the module's cache
    # where an earlier test expanded it); the real build then finds them in its own cache.
    expanded = expand_pages(config, cache_dir, keras=True)
    assert expanded.pages == len(PAGES)
    seed_docs_cache(expanded.used)
    before = snapshot(tmp_path)
    done = cli("docs", "build", *argv, "-d", "site", cwd=tmp_path, env={"XDG_CACHE_HOME": str(tmp_path / "xdg")})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "index.html").is_file()
    assert {name.split("/")[0] for name in changed(before, snapshot(tmp_path))} <= {"site", "xdg"}


def test_a_failed_build_is_one_line_naming_mkdocs_reason(tmp_path, monkeypatch, capfd):
    # MkDocs' own ERROR lines used to come before ours: now its first reason is in our one line.
    from unet_explain.docs.site import DocsError, build_site

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# x\n\n{{ stage-params enc9 }}\n")
    (tmp_path / "mkdocs.yml").write_text("site_name: x\nstrict: true\n")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    before = {p.name for p in tmp_path.iterdir()}
    with pytest.raises(DocsError, match=r"the site did not build: .*no stage 'enc9'"):
        build_site(tmp_path / "site", config_file=tmp_path / "mkdocs.yml")
    assert capfd.readouterr().err == ""
    assert {p.name for p in tmp_path.iterdir()} - before <= {"xdg"}

"""The documentation site: generated content, a strict build, links, and the CLI reference."""

from __future__ import annotations

import re
import shlex
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from unet_explain import UNetConfig, build_spec
from unet_explain.cli import build_parser
from unet_explain.docs import generate
from unet_explain.docs.site import build_site
from unet_explain.render.formatting import count, si
from unet_explain.render.text_formats import to_markdown

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


@pytest.fixture
def cache(tmp_path):
    return generate.Cache(tmp_path / "cache")


def test_value_placeholders_follow_the_spec(cache):
    spec = build_spec(UNetConfig(input_size=188))
    text = generate.expand(
        "{{ value totals.output_size | size --input-size 188 }} / {{ value dec1.crop.0 --input-size 188 }}",
        "index.md",
        cache,
    )
    assert text == f"{spec.totals.output_size[0]}x{spec.totals.output_size[1]} / {spec.stage('dec1').crop[0]}"


def test_changing_the_config_changes_the_page(cache):
    paper = generate.expand("{{ table }}", "index.md", cache)
    small = generate.expand("{{ table --input-size 188 --depth 4 }}", "index.md", cache)
    assert paper == to_markdown(build_spec(UNetConfig()))
    assert small == to_markdown(build_spec(UNetConfig(input_size=188)))
    assert paper != small


def test_figures_link_relative_to_the_page(cache):
    text = generate.expand("{{ diagram --depth 2 --input-size 188 }}", "walkthrough/x.md", cache)
    match = re.fullmatch(r"!\[(.*)\]\(\.\./(assets/generated/diagram-\w+\.svg)\)", text)
    assert match and "depth 2" in match.group(1)
    assert generate.figures_in("{{ diagram --depth 2 --input-size 188 }}", cache)[0].uri == match.group(2)


@pytest.mark.parametrize(
    ("placeholder", "fragment"),
    [
        ("{{ nonsense }}", "unknown placeholder kind 'nonsense'"),
        ("{{ value totals.nope }}", "no 'nope'"),
        ("{{ value totals.params | roman }}", "unknown format 'roman'"),
        ("{{ table --input-size 570 }}", "nearest valid sizes: 556, 572"),
    ],
)
def test_bad_placeholders_fail_the_build_with_the_page_named(cache, placeholder, fragment):
    with pytest.raises(generate.PlaceholderError) as info:
        generate.expand(placeholder, "walkthrough/x.md", cache)
    assert "walkthrough/x.md" in str(info.value) and fragment in str(info.value)


def test_the_cache_is_keyed_by_the_package_source(tmp_path, monkeypatch):
    copy = tmp_path / "unet_explain"
    shutil.copytree(generate.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(generate, "PACKAGE_DIR", copy)
    generate.fingerprint.cache_clear()
    try:
        before = generate.fingerprint()
        (copy / "core" / "arithmetic.py").write_text((copy / "core" / "arithmetic.py").read_text() + "\n# changed\n")
        generate.fingerprint.cache_clear()
        assert generate.fingerprint() != before
    finally:
        generate.fingerprint.cache_clear()


def test_the_cache_is_used(cache):
    generate.expand("{{ crops }}", "index.md", cache)
    generate.expand("{{ crops }}", "index.md", cache)
    assert (cache.misses, cache.hits) == (1, 1)


# --- the built site -----------------------------------------------------------------


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    folder, _ = build_site(tmp_path_factory.mktemp("site") / "site", ROOT / "mkdocs.yml")
    return folder


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)


def pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if p.name != "404.html")


def test_every_page_is_built_without_placeholders(site):
    built = {p.relative_to(site).as_posix() for p in pages(site)}
    for md in DOCS.rglob("*.md"):
        rel = md.relative_to(DOCS).with_suffix("")  # walkthrough/costs -> walkthrough/costs/index.html
        folder = rel.parent if rel.name == "index" else rel
        assert (folder / "index.html").as_posix() in built, md
    for page in pages(site):
        assert "{{" not in page.read_text(encoding="utf-8"), page


def test_internal_links_and_images_resolve(site):
    for page in pages(site):
        parser = Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for link in parser.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("#", "mailto:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if parts.path.endswith("/") or target.is_dir():
                target = target / "index.html"
            assert target.exists(), f"{page.relative_to(site)} links to missing {link}"


def test_pages_show_the_specs_numbers(site):
    spec = build_spec(UNetConfig())
    home = (site / "index.html").read_text(encoding="utf-8")
    assert count(spec.totals.params) in home and si(spec.totals.macs) in home
    crops = (site / "walkthrough/expansive-path/index.html").read_text(encoding="utf-8")
    for name in ("dec1", "dec2", "dec3", "dec4"):
        stage = spec.stage(name)
        assert f"<strong>{stage.crop[0]}</strong>" in crops
    inputs = (site / "walkthrough/input-tile/index.html").read_text(encoding="utf-8")
    assert count(build_spec(UNetConfig(in_channels=3)).totals.params) in inputs
    costs = (site / "walkthrough/costs/index.html").read_text(encoding="utf-8")
    assert "agree" in costs and "MISMATCH" not in costs and "Total params" in costs
    assert (site / "assets/generated").is_dir() and any((site / "assets/generated").glob("diagram-*.svg"))


def test_cli_reference_lists_every_command_and_flag(site):
    text = (site / "reference/cli/index.html").read_text(encoding="utf-8")
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, command in sub.choices.items():
        assert f"unet-explain {name}" in text
        for action in command._actions:
            for flag in action.option_strings:
                assert flag in text, f"{name} {flag}"


def test_commands_quoted_in_the_docs_and_readme_are_real():
    """Every `unet-explain ...` in a code span of the docs or README parses with the real parser."""
    parser = build_parser()
    found = 0
    for source in [*DOCS.rglob("*.md"), ROOT / "README.md"]:
        for command in re.findall(r"`(unet-explain [^`]*)`", source.read_text(encoding="utf-8")):
            words = shlex.split(command.replace("\\|", "|"))[1:]
            if any(w.startswith("[") or "|" in w or re.fullmatch(r"[A-Z][A-Zx]*", w) for w in words):
                continue  # a usage pattern such as `--format png|svg`, not a command
            try:
                parser.parse_args(words)
            except SystemExit as exit_:
                if exit_.code not in (0, None):  # --help and --version exit 0
                    pytest.fail(f"{source.name}: `{command}` is not a valid command")
            found += 1
    assert found >= 10

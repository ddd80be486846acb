"""The documentation site: generated content, a strict build, links, and the CLI reference."""

from __future__ import annotations

import os
import re
import shlex
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from conftest import BROWSER_GROUP

from unet_explain import UNetConfig, build_spec
from unet_explain.cli import build_parser
from unet_explain.docs import cache as docs_cache
from unet_explain.docs.assets import viewer_html
from unet_explain.docs.cache import Cache
from unet_explain.docs.placeholders import expand, figures_in
from unet_explain.docs.site import build_site, site_flags
from unet_explain.docs.site_config import PACKAGE_DIR, PlaceholderError, Site
from unet_explain.errors import UNetExplainError
from unet_explain.render.formatting import count, si
from unet_explain.render.text_formats import to_markdown

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


@pytest.fixture
def cache(tmp_path):
    return Cache(tmp_path / "cache")


def test_value_placeholders_follow_the_spec(cache):
    spec = build_spec(UNetConfig(input_size=188))
    text = expand(
        "{{ value totals.output_size | size --input-size 188 }} / {{ value dec1.crop.0 --input-size 188 }}",
        "index.md",
        cache,
    )
    assert text == f"{spec.totals.output_size[0]}x{spec.totals.output_size[1]} / {spec.stage('dec1').crop[0]}"


def test_changing_the_config_changes_the_page(cache):
    paper = expand("{{ table }}", "index.md", cache)
    small = expand("{{ table --input-size 188 --depth 4 }}", "index.md", cache)
    assert to_markdown(build_spec(UNetConfig())) in paper
    assert to_markdown(build_spec(UNetConfig(input_size=188))) in small
    assert paper != small


def test_figures_link_relative_to_the_page(cache):
    text = expand("{{ diagram --depth 2 --input-size 188 }}", "walkthrough/x.md", cache)
    # The column shows the U's column rendition; a tap opens the full drawing's page.
    links = re.findall(r'src="\.\./\.\./(assets/generated/diagram-\w+-(light|dark))-column\.svg#only-\2"', text)
    assert [theme for _, theme in links] == ["light", "dark"] and "depth 2" in text
    assets = figures_in("{{ diagram --depth 2 --input-size 188 }}", cache)
    assert [a.uri for a in assets] == [f"{u}.svg" for u, _ in links]
    assert [a.shown_uri for a in assets] == [f"{u}-column.svg" for u, _ in links]
    viewers = re.findall(r'href="\.\./\.\./(assets/generated/diagram-\w+-(?:light|dark))\.html"', text)
    assert viewers == [u for u, _ in links]


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
    with pytest.raises(PlaceholderError) as info:
        expand(placeholder, "walkthrough/x.md", cache)
    assert "walkthrough/x.md" in str(info.value) and fragment in str(info.value)


def test_the_cache_is_keyed_by_the_package_source(tmp_path, monkeypatch):
    copy = tmp_path / "unet_explain"
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(docs_cache, "PACKAGE_DIR", copy)
    docs_cache.fingerprint.cache_clear()
    try:
        before = docs_cache.fingerprint()
        (copy / "core" / "arithmetic.py").write_text((copy / "core" / "arithmetic.py").read_text() + "\n# changed\n")
        docs_cache.fingerprint.cache_clear()
        assert docs_cache.fingerprint() != before
    finally:
        docs_cache.fingerprint.cache_clear()


def test_the_cache_is_used(cache):
    expand("{{ crops }}", "index.md", cache)
    expand("{{ crops }}", "index.md", cache)
    assert (cache.misses, cache.hits) == (1, 1)


# --- the built site -----------------------------------------------------------------


@pytest.fixture(scope="session")
def site(paper_site) -> Path:
    return paper_site


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


# --- the site's network ------------------------------------------------------------


def test_placeholders_follow_the_site_config_unless_marked_paper(tmp_path):
    own = UNetConfig(input_size=508, in_channels=3)
    site = Site(flags=site_flags(own))
    assert site.flags == ("--input-size", "508", "--in-channels", "3")
    cache = Cache(tmp_path / "cache", site)
    spec, paper = build_spec(own), build_spec(UNetConfig())
    text = expand(
        "{{ value totals.output_size | size }} {{ value totals.output_size | size --paper }} "
        "{{ value totals.params | count --in-channels 1 }}",
        "index.md",
        cache,
    )
    with_one_channel = build_spec(UNetConfig(input_size=508)).totals.params
    assert text == "324x324 388x388 " + count(with_one_channel)
    assert "{}x{}".format(*spec.totals.output_size) == "324x324" and paper.totals.output_size == (388, 388)
    assert to_markdown(spec) in expand("{{ table }}", "index.md", cache)


def test_the_cache_key_includes_the_site_config(tmp_path):
    paper = Cache(tmp_path, Site())
    own = Cache(tmp_path, Site(flags=("--input-size", "508")))
    assert paper.key("table", "") != own.key("table", "")
    assert expand("{{ value totals.output_size | size }}", "i.md", paper) == "388x388"
    assert expand("{{ value totals.output_size | size }}", "i.md", own) == "324x324"


def test_size_tokens_keep_examples_true_on_any_site(tmp_path):
    for flags, bad, nxt in [
        ((), 570, 588),
        (("--input-size", "508"), 506, 524),
        (("--depth", "3", "--input-size", "188"), 186, 196),
    ]:
        cache = Cache(tmp_path, Site(flags=flags))
        assert str(bad) in expand("{{ size-break @input-2 }}", "i.md", cache)
        assert expand("{{ value config.input_size | side --input-size @next }}", "i.md", cache) == str(nxt)


def test_size_listings_do_not_inherit_the_sites_input_size(tmp_path):
    # 508 is invalid with padding "same"; the listing needs no input size, so it must not fail.
    site = Site(flags=site_flags(UNetConfig(input_size=508, in_channels=3)))
    cache = Cache(tmp_path, site)
    page = (PACKAGE_DIR.parent / "docs/walkthrough/tiling.md").read_text(encoding="utf-8")
    section = page.split('## With padding "same"')[1].split("??? question")[0]
    text = expand(section, "walkthrough/tiling.md", cache)
    assert "$ unet-explain sizes --min 500 --max 600 --padding same</code>" in text
    assert "--input-size" not in text and "error" not in text.lower()
    for side in (512, 528, 544, 560, 576, 592):
        assert f"| {side} " in text
    listing = expand("{{ sizes --min 500 --max 600 --padding same }}", "i.md", cache)
    assert "| 512 | 512 | 0 | 32 |" in listing
    # a size given in the placeholder itself is still checked
    with pytest.raises(UNetExplainError):
        expand("{{ sizes --min 1 --max 9 --padding same --input-size 508 }}", "i.md", cache)


# --- the derivations, in general form, against the spec --------------------------------


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_crop_recurrence_and_valid_size_rule_hold_for_any_depth(depth, padding):
    from unet_explain.core.arithmetic import CONVS_PER_LEVEL, is_valid_side

    rc = (2 if padding == "valid" else 0) * CONVS_PER_LEVEL
    for b in (12, 17, 32):
        tile = 2**depth * b + rc * (2**depth - 1)
        spec = build_spec(UNetConfig(input_size=tile, depth=depth, padding=padding))
        assert spec.stage("bottleneck").in_size[0] == b
        crops = {s.level: s.crop[0] for s in spec.stages if s.crop is not None}
        for level, crop in crops.items():
            assert crop == rc * (3 * 2 ** (depth - level) - 2)  # closed form
            below = crops.get(level + 1)
            assert crop == (rc if below is None else 2 * below + 2 * rc)  # the recurrence
        if padding == "valid":  # valid tiles are exactly 2^D apart
            assert not any(is_valid_side(tile + d, depth, padding) for d in range(1, 2**depth))


def test_paper_crops_are_4_16_40_88(cache):
    assert expand("{{ value crops | list }}", "i.md", cache) == "4, 16, 40 and 88"
    text = expand("{{ crop-derivation }}", "i.md", cache)
    assert "2 · 40 + 8 = 88" in text and "rc = 4" in text


def test_the_derivations_render_the_specs_numbers(cache):
    spec = build_spec(UNetConfig())
    backwards = expand("{{ size-backwards }}", "i.md", cache)
    assert "| 32 | 68 | 140 | 284 | **572** | 388 |" in backwards
    assert "= 16\\,b + 60" in backwards  # the valid-size rule, as LaTeX for MathML
    enc1 = expand("{{ stage-params enc1 }}", "i.md", cache)
    assert (
        "9 · 1 · 64 + 64" in enc1 and "9 · 64 · 64 + 64" in enc1 and f"**{count(spec.stage('enc1').params)}**" in enc1
    )
    dec1 = expand("{{ stage-params dec1 }}", "i.md", cache)
    assert "4 · 128 · 64 + 64" in dec1 and f"**{count(spec.stage('dec1').params)}**" in dec1
    field = expand("{{ field-reconcile }}", "i.md", cache)
    assert "| 0 | 92 | 95 | 188 |" in field and "| 4 | 96 | 107 | 204 |" in field
    assert "2 × 92 + 1 = 185" in field


def test_source_is_read_from_the_package_not_pasted(cache):
    text = expand("{{ source model/keras_unet.py:upconv }}", "i.md", cache)
    assert "layers.Conv2DTranspose" in text and "upconv_layer(" in text and "--8<--" not in text
    first = int(re.search(r'linenums="(\d+)"', text).group(1))
    source = (PACKAGE_DIR / "model/keras_unet.py").read_text().splitlines()
    assert "elif layer.kind == sp.UPCONV:" in source[first - 1]
    init = expand("{{ source model/keras_unet.py:paper_initializer }}", "i.md", cache)
    assert "def paper_initializer" in init
    with pytest.raises(PlaceholderError, match="no section or function"):
        expand("{{ source model/keras_unet.py:nothing }}", "i.md", cache)


def test_figures_come_in_light_and_dark_and_open_at_full_size(cache):
    text = expand("{{ diagram --highlight enc1,decD --depth 2 --input-size 188 }}", "walkthrough/x.md", cache)
    assert text.count("<img ") == 2 and "#only-light" in text and "#only-dark" in text
    # a tap opens the figure's own viewer page (not the bare drawing), in the drawing's scheme
    assert re.search(r'<a class="unet-figure-link" href="\.\./\.\./assets/generated/diagram-\w+-dark\.html"', text)
    assert 'class="unet-figure-scroll"' in text  # the U scrolls in its own box where it is kept readable
    index = expand("{{ diagram }}", "walkthrough/index.md", cache)
    assert 'src="../assets/generated/diagram-' in index
    assert "highlighted: enc1, dec2" in text
    light, dark = figures_in("{{ diagram --highlight enc1 }}", cache)
    assert (light.theme, dark.theme) == ("light", "dark") and light.path.read_bytes() != dark.path.read_bytes()
    viewer = viewer_html(dark)
    assert dark.viewer_uri.endswith("-dark.html") and f'src="{Path(dark.uri).name}"' in viewer
    assert 'name="viewport" content="width=device-width' in viewer and "background: #1e2029" in viewer
    assert "#ffffff" in viewer_html(light)


# --- folder safety ------------------------------------------------------------------


def _tiny_sources(tmp_path: Path, page: str) -> Path:
    """A one-page site using the package's hooks: quick to build, and easy to make fail."""
    src = tmp_path / "src"
    (src / "docs").mkdir(parents=True)
    (src / "docs" / "index.md").write_text(page, encoding="utf-8")
    (src / "mkdocs.yml").write_text("site_name: tiny\nhooks:\n  - nowhere.py\n", encoding="utf-8")
    return src / "mkdocs.yml"


def _listing(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_build_replaces_an_earlier_site_and_marks_it(tmp_path):
    from unet_explain.docs.site import MARKER

    config = _tiny_sources(tmp_path, "# {{ value totals.output_size | size }}\n")
    target = tmp_path / "out"
    build_site(target, config)
    assert (target / MARKER).is_file() and "388x388" in (target / "index.html").read_text()
    build_site(target, config, config=UNetConfig(input_size=508))
    assert "324x324" in (target / "index.html").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "src"]  # no temporary folder left behind


@pytest.mark.parametrize("failure", ["placeholder", "interrupt"])
def test_a_failed_or_interrupted_build_leaves_the_previous_site(tmp_path, monkeypatch, failure):
    from unet_explain.docs.site import MARKER, DocsError

    good = _tiny_sources(tmp_path / "good", "# fine\n")
    target = tmp_path / "out"
    build_site(target, good)
    before = _listing(target)
    if failure == "placeholder":
        bad = _tiny_sources(tmp_path / "bad", "# {{ nonsense }}\n")
        with pytest.raises(DocsError, match="did not build"):
            build_site(target, bad)
    else:
        import mkdocs.commands.build

        def interrupted(config, **kwargs):
            (Path(config["site_dir"]) / "half.html").write_text("half")
            raise KeyboardInterrupt

        monkeypatch.setattr(mkdocs.commands.build, "build", interrupted)
        with pytest.raises(KeyboardInterrupt):
            build_site(target, good)
    assert _listing(target) == before and (target / MARKER).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["good", "out"] + (["bad"] if failure == "placeholder" else [])
    )


def test_the_default_target_is_site_in_the_working_folder(tmp_path, monkeypatch):
    config = _tiny_sources(tmp_path, "# fine\n")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    folder, _ = build_site(None, config)
    assert folder == work / "site" and (work / "site" / "index.html").is_file()


def _cli(args: list[str], capsys) -> tuple[int, str, str]:
    from unet_explain.cli import main

    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_docs_build_refuses_a_foreign_folder_and_leaves_it_alone(tmp_path, capsys):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    code, _, err = _cli(["docs", "build", "-d", str(foreign)], capsys)
    assert code == 2 and err.count("\n") == 1 and "not a site built by unet-explain" in err
    assert _listing(foreign) == {"thesis.tex": b"precious"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


@pytest.mark.parametrize(
    ("target", "code", "fragment"),
    [("a-file", 2, "it is a file"), ("/proc/unet-explain-site", 1, "cannot write in /proc")],
)
def test_docs_build_at_a_file_or_an_unwritable_place_is_one_line(tmp_path, capsys, target, code, fragment):
    if target == "a-file":
        target = str(tmp_path / "a-file")
        Path(target).write_text("keep me")
    got, _, err = _cli(["docs", "build", "-d", target], capsys)
    assert got == code and err.count("\n") == 1 and fragment in err and "Traceback" not in err
    if Path(target).parent == tmp_path:
        assert Path(target).read_text() == "keep me"


def test_docs_build_in_an_unwritable_folder_is_one_line(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as root: permissions do not stop writing")
        code, _, err = _cli(["docs", "build", "-d", str(locked / "site")], capsys)
        assert code == 1 and err.count("\n") == 1 and "cannot write" in err
    finally:
        locked.chmod(0o700)


def test_docs_build_checks_the_config_flags_first(tmp_path, capsys):
    code, _, err = _cli(["docs", "build", "-d", str(tmp_path / "s"), "--input-size", "570"], capsys)
    assert code == 2 and "nearest valid sizes: 556, 572" in err and not (tmp_path / "s").exists()


def test_docs_serve_on_a_busy_port_is_one_line(capsys):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out, err = _cli(["docs", "serve", "--port", str(port)], capsys)
    assert code == 1 and out == "" and err.count("\n") == 1 and f"--port {port}: the port is in use" in err


def test_docs_serve_on_a_privileged_port_is_one_line(capsys, monkeypatch):
    import socket

    def refuse(self, address):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(socket.socket, "bind", refuse)  # what a non-root user gets for a port below 1024
    code, out, err = _cli(["docs", "serve", "--port", "80"], capsys)
    assert code == 1 and out == "" and err.count("\n") == 1 and "ports below 1024 need root" in err


# --- from a wheel, in an empty folder ----------------------------------------------------


#: Placeholders whose text depends on where the package runs from (the site's root, the installed sources, the
#: installed command): a wheel's build must make them itself.
INSTALLED_KINDS = {"source", "audit", "console", "cli-reference", "config-commands"}


@pytest.mark.slow
@pytest.mark.xdist_group(BROWSER_GROUP)  # after test_browser's own_site, which puts the 508x508x3 items in the cache
def test_a_wheel_installed_in_a_fresh_venv_builds_the_site_in_an_empty_folder(
    tmp_path, paper_site, expand_pages, seed_docs_cache
):
    """Build the wheel offline, install it (no deps) into a new venv that borrows this venv's dependencies.

    What the wheel must bring is checked here: the package whole (its fingerprint, every .py, equals the
    clone's), the site's sources, templates and assets (the build reads them from the installed copy), and
    whatever depends on where the package runs from: the placeholders that read files of the site's sources,
    quote the installed code or run the installed command (INSTALLED_KINDS) are expanded by the wheel's build
    itself. The other items (figures, tables, the Keras pages) are the clone's code's, checked by the rest of
    the suite; they reach the wheel's build through its docs cache, keyed by that same fingerprint."""
    import subprocess
    import sys
    import sysconfig
    import venv

    source = tmp_path / "source"  # a copy, so the build leaves nothing in the working tree
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "mkdocs.yml"):
        shutil.copy2(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "_site_src", "*.egg-info")
    shutil.copytree(ROOT / "docs", source / "docs", ignore=ignore)
    shutil.copytree(ROOT / "unet_explain", source / "unet_explain", ignore=ignore)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", str(wheels), str(source)],
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    (wheel,) = wheels.glob("unet_explain-*.whl")

    fresh = tmp_path / "venv"
    venv.create(fresh, with_pip=False)
    python = fresh / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    # The dependencies (mkdocs, TensorFlow, ...) come from this venv, after the fresh venv's own packages.
    Path(purelib, "borrowed_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [*pip, "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True, env=env, capture_output=True,
    )  # fmt: skip

    empty = tmp_path / "empty"
    empty.mkdir()
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    where = subprocess.run(
        [python, "-c", "import unet_explain.docs.site as s; print(s.find_config())"],
        cwd=empty, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    assert where.startswith(purelib) and where.endswith("unet_explain/_site_src/mkdocs.yml")
    # The installed package is this clone's, file for file: the docs cache's fingerprint hashes every .py of it.
    installed = subprocess.run(
        [python, "-c", "from unet_explain.docs.cache import fingerprint; print(fingerprint())"],
        cwd=empty, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    assert installed == docs_cache.fingerprint()
    from unet_explain.docs.hooks import cache_folder

    own = expand_pages(UNetConfig(input_size=508, in_channels=3), cache_folder(ROOT))  # found there, or made
    seed_docs_cache(
        [item for item in own.used if own.kinds.get(item) not in INSTALLED_KINDS],
        Path(env["XDG_CACHE_HOME"]) / "unet-explain" / "docs",
    )
    run = subprocess.run(
        [fresh / "bin" / "unet-explain", "docs", "build", "-d", "out", "--input-size", "508", "--in-channels", "3"],
        cwd=empty, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert sorted(p.name for p in empty.iterdir()) == ["out"]
    # The wheel's build made the items left out of its cache itself, under the same keys, with the same text.
    made = {item: own.kinds[item] for item in own.used if own.kinds.get(item) in INSTALLED_KINDS}
    assert set(made.values()) == INSTALLED_KINDS
    wheel_cache = Path(env["XDG_CACHE_HOME"]) / "unet-explain" / "docs"
    for item in made:
        assert (wheel_cache / item.name).read_bytes() == item.read_bytes(), f"{made[item]}: not the clone's text"
    home = (empty / "out" / "index.html").read_text(encoding="utf-8")
    assert (
        "input 508x508x3" in home and count(build_spec(UNetConfig(input_size=508, in_channels=3)).totals.params) in home
    )
    tile = (empty / "out" / "walkthrough" / "input-tile" / "index.html").read_text(encoding="utf-8")
    assert "324x324" in tile and '<span class="nf">validate_input_size</span>' in tile  # the package's source

    # ... and serves it, from the same empty folder, without writing there; the paper's items come from this
    # clone's docs cache too (paper_site filled it).
    paper = expand_pages(UNetConfig(), cache_folder(ROOT))
    seed_docs_cache(
        [item for item in paper.used if paper.kinds.get(item) not in INSTALLED_KINDS],
        Path(env["XDG_CACHE_HOME"]) / "unet-explain" / "docs",
    )
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "serve.log"
    with log.open("w") as stderr:
        server = subprocess.Popen(
            [fresh / "bin" / "unet-explain", "docs", "serve", "--port", str(port)],
            cwd=empty, env=env, stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
        try:
            deadline, page = time.monotonic() + 120, ""
            while time.monotonic() < deadline and not page:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                        page = response.read().decode("utf-8")
                except OSError:
                    assert server.poll() is None, log.read_text()[-2000:]
                    time.sleep(0.5)
            assert "input 572x572x1" in page  # served for the paper's network: no flags given
        finally:
            server.terminate()
            server.wait(timeout=30)
    assert sorted(p.name for p in empty.iterdir()) == ["out"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "config",
    [UNetConfig(input_size=188, depth=3, base_filters=32), UNetConfig(input_size=512, padding="same")],
    ids=["depth-3", "padding-same"],
)
def test_the_whole_site_builds_for_other_depths_and_padding(tmp_path, config):
    """Pages name stages generically (encD, decD) and every derivation holds for any depth and padding."""
    site, _ = build_site(tmp_path / "site", ROOT / "mkdocs.yml", config=config)
    spec = build_spec(config)
    home = (site / "index.html").read_text(encoding="utf-8")
    assert config.describe() in home and "{}x{}".format(*spec.totals.output_size) in home
    crops = (site / "walkthrough/expansive-path/index.html").read_text(encoding="utf-8")
    deepest = spec.stage(f"dec{config.depth}")
    assert f"<strong>{deepest.crop[0]}</strong>" in crops and f"dec{config.depth + 1}" not in crops


@pytest.mark.keras
@pytest.mark.slow
def test_the_variant_gap_is_broken_down_for_the_sites_network(tmp_path):
    """31,055,362 - 31,030,658 on a 508/3 site: the 3 input channels (spec) plus batch normalisation (audit)."""
    from unet_explain.model.audit import audit_model
    from unet_explain.model.variants import build_variant

    own = UNetConfig(input_size=508, in_channels=3)
    cache = Cache(tmp_path, Site(flags=site_flags(own)))
    text = expand("{{ variant-gap same-padding }}", "i.md", cache)
    paper = build_spec(UNetConfig()).totals.params
    channels = build_spec(own).totals.params - paper
    assert channels == (3 - 1) * 3 * 3 * 64  # only the first conv reads the input
    model, _, _ = build_variant("same-padding", own)
    report = audit_model(model, reference=own)
    norm = report.param_sources["normalisation"]
    assert report.params - paper == channels + norm
    assert text == (
        f"The `same-padding` column of the table above has {count(report.params)} parameters, "
        f"{count(report.params - paper)} more than the paper's {count(paper)}: {count(channels)} from this "
        f"site's network (input channels 3 instead of 1) and {count(norm)} from normalisation."
    )
    paper_site = Cache(tmp_path / "p", Site())
    assert expand("{{ variant-gap same-padding }}", "i.md", paper_site).endswith(f": {count(norm)} from normalisation.")

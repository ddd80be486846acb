"""The built site in a real browser: headless Chromium (Debian's), driven by Playwright.

Every page loads without console errors or failed requests (nothing is fetched
from outside: the site works offline), every image has loaded, and nothing is
wider than the content column: at 1280 px nothing scrolls at all, at 390 px
only tables, code blocks and the U diagram (kept wide enough to read) may
scroll, inside their own box. A tap on a figure opens it enlarged, readable in
either scheme. Both colour
schemes. A site built for another network shows that network's numbers.

Set ``UNET_EXPLAIN_SHOTS=/some/folder`` to keep a full-page screenshot of every
page at every width and scheme, to look at.
"""

from __future__ import annotations

import io
import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from unet_explain import UNetConfig, build_spec
from unet_explain.docs.site import build_site
from unet_explain.render.formatting import count

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
OWN = UNetConfig(input_size=508, in_channels=3)

# Elements that stick out of the article, and scroll boxes that scroll; each as a short description.
OVERFLOW_JS = """
() => {
  const article = document.querySelector('article.md-content__inner');
  const limit = document.querySelector('.md-content').getBoundingClientRect().right + 1;  // the content column
  const classes = el => typeof el.className === 'string' && el.className.trim()
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
  const describe = el => el.tagName.toLowerCase() + classes(el) + ' "' + el.textContent.trim().slice(0, 40) + '"';
  const scrolls = el => ['auto', 'scroll', 'hidden'].includes(getComputedStyle(el).overflowX);
  const outside = [];
  const scrolling = [];
  for (const el of article.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    let parent = el.parentElement, inBox = false;
    while (parent && parent !== article) {
      if (scrolls(parent)) { inBox = true; break; }
      parent = parent.parentElement;
    }
    if (!inBox && box.right > limit) outside.push(describe(el) + ' right=' + Math.round(box.right));
    if (scrolls(el) && el.scrollWidth > el.clientWidth + 1) {
      const holds = el.tagName === 'TABLE' || el.querySelector('table') ? 'table'
        : el.closest('pre') ? 'code' : el.classList.contains('unet-figure-scroll') ? 'figure' : 'other';
      scrolling.push(holds + ': ' + describe(el));
    }
  }
  const doc = document.documentElement;
  return {outside, scrolling, page: [doc.scrollWidth, doc.clientWidth]};
}
"""


@pytest.fixture(scope="module")
def own_site(tmp_path_factory, serve) -> Iterator[tuple[str, Path]]:
    site, _ = build_site(tmp_path_factory.mktemp("own") / "site", ROOT / "mkdocs.yml", config=OWN)
    with serve(site) as base:
        yield base, site


def page_urls(base: str, site: Path) -> list[str]:
    return sorted(
        base + p.parent.relative_to(site).as_posix().removeprefix(".") + ("/" if p.parent != site else "")
        for p in site.rglob("index.html")
        if "search" not in p.parts
    )


def _shot_name(url: str, base: str, width: int, scheme: str) -> str:
    slug = url.removeprefix(base).strip("/").replace("/", "_") or "home"
    return f"{slug}-{width}-{scheme}.png"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_every_page_fits_and_loads_its_figures(served_site, browser, viewport, scheme):
    base, site = served_site
    urls = page_urls(base, site)
    assert len(urls) >= 12
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
    page.on("requestfailed", lambda req: problems.append(f"failed request: {req.url} ({req.failure})"))
    page.on(
        "request", lambda req: problems.append(f"external request: {req.url}") if not req.url.startswith(base) else None
    )
    shots = os.environ.get("UNET_EXPLAIN_SHOTS")
    figures = 0
    overflow: list[str] = []
    for url in urls:
        response = page.goto(url, wait_until="networkidle")
        assert response is not None and response.status == 200, url
        scheme_shown = page.evaluate("() => document.body.getAttribute('data-md-color-scheme')")
        assert scheme_shown == ("slate" if scheme == "dark" else "default"), url
        images = page.evaluate(
            "() => Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth,"
            " i.getBoundingClientRect().width])"
        )
        for src, complete, natural, shown in images:
            assert complete and natural > 0, f"{url}: image {src} did not load"
            if src.endswith(f"#only-{scheme}"):
                assert shown > 0, f"{url}: the {scheme} figure {src} is hidden in the {scheme} scheme"
                figures += 1
            elif "#only-" in src:
                assert shown == 0, f"{url}: {src} is shown in the {scheme} scheme"
        found = page.evaluate(OVERFLOW_JS)
        where = f"{url.removeprefix(base) or '/'} at {viewport['width']} px"
        overflow += [f"{where}: wider than the column: {d}" for d in found["outside"]]
        if found["page"][0] > found["page"][1]:
            overflow.append(f"{where}: the page scrolls sideways ({found['page']})")
        if viewport is DESKTOP:
            overflow += [f"{where}: scrolls inside its box: {d}" for d in found["scrolling"]]
        else:
            overflow += [
                f"{where}: only tables, code and the U may scroll: {d}"
                for d in found["scrolling"]
                if not d.startswith(("table: ", "code: ", "figure: ")) or "unet-console" in d
            ]
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(shots) / _shot_name(url, base, viewport["width"], scheme)), full_page=True)
    context.close()
    assert overflow == [], "\n".join(overflow)
    assert problems == []
    assert figures >= 9  # the U at the top of the home page and of every walkthrough step, at least


def _luminance(rgb: str) -> float:
    r, g, b = (int(v) for v in re.findall(r"[\d.]+", rgb)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_tapped_figure_opens_enlarged_in_the_schemes_colours(served_site, browser, scheme):
    base, _ = served_site
    context = browser.new_context(viewport=PHONE, color_scheme=scheme)
    page = context.new_page()
    page.goto(base, wait_until="networkidle")
    # On a phone the U keeps a readable width and scrolls inside its own box.
    u = page.locator(f"figure.unet-figure--wide img[src$='#only-{scheme}']").first
    assert u.bounding_box()["width"] >= 1000
    box = page.locator("figure.unet-figure--wide .unet-figure-scroll").first.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    u.click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"-{scheme}.html")
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert (_luminance(background) < 60) if scheme == "dark" else (_luminance(background) > 200), background
    image = page.evaluate(
        "() => { const i = document.querySelector('img.unet-enlarged');"
        " return [i.complete, i.naturalWidth, i.getBoundingClientRect().width]; }"
    )
    assert image[0] and image[1] > 0 and image[2] >= PHONE["width"]
    viewport = page.evaluate("() => document.querySelector('meta[name=viewport]').content")
    assert "width=device-width" in viewport
    page.go_back(wait_until="networkidle")  # the way back: history, or the link
    assert page.url == base
    context.close()


def test_walkthrough_screenshot_is_not_blank(served_site, browser):
    base, _ = served_site
    page = browser.new_page(viewport=DESKTOP)
    page.goto(base + "walkthrough/", wait_until="load")
    assert "enc1" in page.inner_text("article")
    shot = page.screenshot(full_page=True)
    page.close()
    image = Image.open(io.BytesIO(shot)).convert("RGB")
    width, height = image.size
    assert width == 1280 and height > 900
    colours = Counter({colour: n for n, colour in image.getcolors(width * height)})
    most_common_share = colours.most_common(1)[0][1] / (width * height)
    assert len(colours) > 50 and most_common_share < 0.95


def test_a_site_built_for_another_network_shows_its_numbers(own_site, browser):
    base, _ = own_site
    spec, paper = build_spec(OWN), build_spec(UNetConfig())
    out = "{}x{}".format(*spec.totals.output_size)
    page = browser.new_page(viewport=DESKTOP)
    page.goto(base, wait_until="load")
    home = page.inner_text("article")
    assert OWN.describe() in home  # the home page says which network the site is for
    assert out in home and count(spec.totals.params) in home
    assert "572x572" in home and "388x388" in home  # the paper's own tile, labelled as the paper's
    page.goto(base + "walkthrough/", wait_until="load")
    rows = page.eval_on_selector_all("article table tr", "rows => rows.map(r => r.innerText)")
    enc1 = next(r for r in rows if r.startswith("enc1"))
    assert "508x508" in enc1 and count(spec.stage("enc1").params) in enc1
    assert any(count(spec.totals.params) in r for r in rows)
    page.goto(base + "walkthrough/input-tile/", wait_until="load")
    text = page.inner_text("article")
    assert f"writes a segmentation map of {out} pixels" in " ".join(text.split())
    assert re.search(r"\$ unet-explain table --in-channels 3 --input-size 506\b", text)  # the bad-size example
    page.goto(base + "explorer/", wait_until="load")  # the explorer starts at the site's network
    assert page.input_value("[name=input-size]") == "508" and page.input_value("[name=in-channels]") == "3"
    assert page.input_value("[name=padding]") == "valid"
    assert page.inner_text("#explorer-params") == count(spec.totals.params)
    page.goto(base + "walkthrough/costs/", wait_until="load")
    costs = page.inner_text("article")
    assert count(spec.totals.params) in costs and count(paper.totals.params) not in costs
    page.close()

"""The built site in a real browser: headless Chromium (Debian's), driven by Playwright.

Every page loads without console errors or failed requests (nothing is fetched
from outside: the site works offline), every image has loaded, and nothing is
wider than the content column: at 1280 px nothing scrolls at all, at 390 px
only tables, code blocks and the U diagram (kept wide enough to read) may
scroll, inside their own box. A tap on a figure opens it enlarged, readable in
either scheme. Both colour
schemes. A site built for another network shows that network's numbers.

Each page is visited once per width and scheme (``take_tour``): that one visit
gathers what the tests on every page check (fit, figures, legibility at 1280,
the U on a phone), and each test asserts its part, with its own message. The
four tours take turns in one page (``Touring``), which loads every page afresh at
the tour's width and scheme, with the site's stored state cleared between tours.

Set ``UNET_EXPLAIN_SHOTS=/some/folder`` to keep a full-page screenshot of every
page at every width and scheme, to look at.
"""

from __future__ import annotations

import functools
import io
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import BROWSER_GROUP, settle, visit
from PIL import Image

from unet_explain import UNetConfig, build_spec
from unet_explain.docs.site import build_site
from unet_explain.render.formatting import count

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group(BROWSER_GROUP)]

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


@dataclass
class Tour:
    """What one visit of every page, at one width in one colour scheme, found; the tests below each check a part."""

    pages: int = 0
    broken: list[str] = field(default_factory=list)  # not 200, the wrong scheme, an image that did not load
    problems: list[str] = field(default_factory=list)  # console errors, page errors, failed or outside requests
    overflow: list[str] = field(default_factory=list)
    figures: int = 0  # figures of this scheme shown
    unmeasurable: list[str] = field(default_factory=list)  # at 1280: figures without text to measure
    measured: int = 0
    small: list[str] = field(default_factory=list)  # at 1280: figures whose smallest text is under 9 px
    u_views: int = 0  # at 390: walkthrough pages with the wide U
    u_problems: list[str] = field(default_factory=list)


class Touring:
    """One page that takes every tour in turn: each tour asks for its width and scheme before it loads a page,
    and starts with no stored state. The browser's cache and compiled scripts carry over, as for a reader who
    opens a second page (the first tour fetches every file from the server). Measured on the four tours with
    their checks: about 8% less CPU than a fresh context per tour."""

    def __init__(self, browser, base: str) -> None:
        self.base = base
        self.page = browser.new_context().new_page()
        self.cdp = self.page.context.new_cdp_session(self.page)
        self.current = Tour()
        page = self.page
        page.on("console", lambda msg: self.problem(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
        page.on("pageerror", lambda err: self.problem(f"page error: {err}"))
        page.on("requestfailed", lambda req: self.problem(f"failed request: {req.url} ({req.failure})"))
        page.on("request", lambda req: self.outside(req.url))

    def problem(self, text: str) -> None:
        self.current.problems.append(text)

    def outside(self, url: str) -> None:
        if not url.startswith(self.base):
            self.problem(f"external request: {url}")

    def start(self, viewport: dict[str, int], scheme: str) -> Tour:
        settle(self.page)  # the last tour's last requests belong to it
        self.page.goto("about:blank")  # no page of the site runs while the width and scheme change
        # Material keeps the palette it applied in the site's local storage, and would show it again.
        self.cdp.send("Storage.clearDataForOrigin", {"origin": self.base.rstrip("/"), "storageTypes": "all"})
        self.page.set_viewport_size(viewport)
        self.page.emulate_media(color_scheme=scheme)
        self.current = Tour()
        return self.current


def take_tour(touring: Touring, site: Path, viewport: dict[str, int], scheme: str) -> Tour:
    """Every page once, checked for all the tests that look at every page at this width and scheme."""
    tour = touring.start(viewport, scheme)
    page, base = touring.page, touring.base
    shots = os.environ.get("UNET_EXPLAIN_SHOTS")
    for url in page_urls(base, site):
        tour.pages += 1
        response = visit(page, url)
        if response is None or response.status != 200:
            tour.broken.append(f"{url}: {response and response.status}")
        scheme_shown, images = page.evaluate(
            "() => [document.body.getAttribute('data-md-color-scheme'), Array.from(document.images).map(i =>"
            " [i.getAttribute('src'), i.complete, i.naturalWidth, i.getBoundingClientRect().width])]"
        )
        if scheme_shown != ("slate" if scheme == "dark" else "default"):
            tour.broken.append(f"{url}: shows the scheme {scheme_shown!r} when {scheme} is asked for")
        for src, complete, natural, shown in images:
            if not (complete and natural > 0):
                tour.broken.append(f"{url}: image {src} did not load")
            if src.endswith(f"#only-{scheme}"):
                if shown > 0:
                    tour.figures += 1
                else:
                    tour.broken.append(f"{url}: the {scheme} figure {src} is hidden in the {scheme} scheme")
            elif "#only-" in src and shown != 0:
                tour.broken.append(f"{url}: {src} is shown in the {scheme} scheme")
        found = page.evaluate(OVERFLOW_JS)
        where = f"{url.removeprefix(base) or '/'} at {viewport['width']} px"
        tour.overflow += [f"{where}: wider than the column: {d}" for d in found["outside"]]
        if found["page"][0] > found["page"][1]:
            tour.overflow.append(f"{where}: the page scrolls sideways ({found['page']})")
        if viewport is DESKTOP:
            tour.overflow += [f"{where}: scrolls inside its box: {d}" for d in found["scrolling"]]
            measure_figure_text(tour, page, url.removeprefix(base))
        else:
            tour.overflow += [
                f"{where}: only tables, code and the U may scroll: {d}"
                for d in found["scrolling"]
                if not d.startswith(("table: ", "code: ", "figure: ")) or "unet-console" in d
            ]
            if "/walkthrough/" in url:
                check_the_u_on_a_phone(tour, page, url.removeprefix(base))
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(shots) / _shot_name(url, base, viewport["width"], scheme)), full_page=True)
    settle(page)  # the last page's requests are this tour's
    return tour


@pytest.fixture(scope="module")
def tour(served_site, browser) -> Iterator[Callable[[dict[str, int], str], Tour]]:
    """``tour(viewport, scheme)``: every page visited once at that width and scheme (on first ask), then shared."""
    base, site = served_site
    touring = Touring(browser, base)
    taken: dict[tuple[int, str], Tour] = {}

    def at(viewport: dict[str, int], scheme: str) -> Tour:
        if (viewport["width"], scheme) not in taken:
            taken[viewport["width"], scheme] = take_tour(touring, site, viewport, scheme)
        return taken[viewport["width"], scheme]

    yield at
    touring.page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_every_page_fits_and_loads_its_figures(tour, viewport, scheme):
    seen = tour(viewport, scheme)
    assert seen.pages >= 12
    assert seen.broken == [], "\n".join(seen.broken)
    assert seen.overflow == [], "\n".join(seen.overflow)
    assert seen.problems == [], "\n".join(seen.problems)
    assert seen.figures >= 9  # the U at the top of the home page and of every walkthrough step, at least


def _luminance(rgb: str) -> float:
    r, g, b = (int(v) for v in re.findall(r"[\d.]+", rgb)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_tapped_figure_opens_enlarged_in_the_schemes_colours(served_site, browser, scheme):
    base, _ = served_site
    context = browser.new_context(viewport=PHONE, color_scheme=scheme)
    page = context.new_page()
    visit(page, base)
    # On a phone the U keeps a readable width and scrolls inside its own box.
    u = page.locator(f"figure.unet-figure--wide img[src$='#only-{scheme}']").first
    assert u.bounding_box()["width"] >= 560
    box = page.locator("figure.unet-figure--wide .unet-figure-scroll").first.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    settle(page)
    u.click()
    page.wait_for_url(lambda url: url.endswith(f"-{scheme}.html"), wait_until="load")
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
    settle(page)
    page.go_back(wait_until="load")  # the way back: history, or the link
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


# The smallest text of every figure in the article, in CSS pixels as shown: each figure is an SVG with real
# <text> (font sizes in user units), scaled by its shown width over its viewBox width.
FIGURE_TEXT_JS = """
async () => {
  const out = [];
  for (const img of document.querySelectorAll('article figure.unet-figure img')) {
    const box = img.getBoundingClientRect();
    if (box.width === 0) continue;  // the other scheme's drawing
    const src = new URL(img.getAttribute('src').split('#')[0], location.href).href;
    const svg = new DOMParser().parseFromString(await (await fetch(src)).text(), 'image/svg+xml').documentElement;
    const vb = (svg.getAttribute('viewBox') || '').trim().split(/[\\s,]+/).map(Number);
    const width = vb.length === 4 ? vb[2] : parseFloat(svg.getAttribute('width'));
    const sizes = [];
    for (const t of svg.querySelectorAll('text')) {
      if (!t.textContent.trim()) continue;
      let el = t, size = null;
      while (el && el.nodeType === 1 && size === null) {
        const m = (el.getAttribute('style') || '').match(/font-size:\\s*([\\d.]+)/);
        if (m) size = parseFloat(m[1]);
        else if (el.getAttribute('font-size')) size = parseFloat(el.getAttribute('font-size'));
        el = el.parentElement;
      }
      if (size !== null) sizes.push(size);
    }
    out.push({src: src.split('/').pop(), svg: src.split('?')[0].endsWith('.svg'), texts: sizes.length,
              px: sizes.length ? Math.min(...sizes) * box.width / width : null});
  }
  return out;
}
"""


def measure_figure_text(tour: Tour, page, where: str) -> None:
    """The smallest text of each figure shown on the page, on screen: at least 9 px."""
    for fig in page.evaluate(FIGURE_TEXT_JS):
        if not (fig["svg"] and fig["texts"] > 0):
            tour.unmeasurable.append(f"{where}: {fig['src']} has no text to measure")
            continue
        tour.measured += 1
        if fig["px"] < 9:
            tour.small.append(f"{where}: {fig['src']}: {fig['px']:.1f} px")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_figure_in_the_column_is_legible_at_1280(tour, scheme):
    """The smallest text of every figure shown in a page column is at least 9 px on screen."""
    seen = tour(DESKTOP, scheme)  # measured on the same visit as the test above
    assert seen.unmeasurable == [], "\n".join(seen.unmeasurable)
    assert seen.measured >= 20  # the U on every page, the lesson figures, the weight map, the tiling plan
    assert seen.small == [], "\n".join(seen.small)


U_VIEW_JS = """
async () => {
  const img = [...document.querySelectorAll('figure.unet-figure--wide img')].find(i => i.getBoundingClientRect().width);
  const box = img.closest('.unet-figure-scroll');
  const hint = img.closest('figure').querySelector('.unet-scroll-hint');
  const src = new URL(img.getAttribute('src').split('#')[0], location.href).href;
  const svg = new DOMParser().parseFromString(await (await fetch(src)).text(), 'image/svg+xml').documentElement;
  const scale = img.getBoundingClientRect().width / parseFloat(svg.getAttribute('viewBox').split(' ')[2]);
  const lit = [...svg.querySelectorAll('g[data-stage] rect')].filter(r => r.getAttribute('stroke-width') === '3')
    .map(r => [(+r.getAttribute('x')) * scale, (+r.getAttribute('x') + +r.getAttribute('width')) * scale]);
  const hintBox = hint.getBoundingClientRect();
  return {lit, left: box.scrollLeft, width: box.clientWidth, scrolls: box.scrollWidth > box.clientWidth,
          hint: hintBox.width > 0 && hintBox.right <= innerWidth, scale};
}
"""


def check_the_u_on_a_phone(tour: Tour, page, where: str) -> None:
    """The wide U scrolls in its box, says so, and opens at the stages the page highlights."""
    if not page.locator("figure.unet-figure--wide").count():
        return
    tour.u_views += 1
    view = page.evaluate(U_VIEW_JS)
    if not (view["scrolls"] and view["hint"]):
        tour.u_problems.append(f"{where}: the U does not scroll in its box with a visible hint: {view}")
    if view["scale"] * 13 < 9:  # the column rendition's smallest text, kept readable on the phone
        tour.u_problems.append(f"{where}: the U's smallest text is {view['scale'] * 13:.1f} px")
    if not view["lit"]:
        return
    # All highlighted boxes in view if their span fits the screen, else the leftmost one.
    span = (min(b[0] for b in view["lit"]), max(b[1] for b in view["lit"]))
    wanted = [span] if span[1] - span[0] <= view["width"] else [min(view["lit"])]
    for left, right in wanted:
        if left < view["left"] - 1 or right > view["left"] + view["width"] + 1:
            tour.u_problems.append(f"{where}: {left:.0f}-{right:.0f} not in view: {view}")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_on_a_phone_the_u_opens_at_its_highlight_and_says_it_scrolls(tour, scheme):
    seen = tour(PHONE, scheme)  # checked on the same visit as the 390 px test above
    assert seen.u_views >= 9  # every walkthrough step shows the U
    assert seen.u_problems == [], "\n".join(seen.u_problems)


def test_the_explorer_on_a_phone_keeps_the_answer_near_the_boxes(served_site, browser):
    base, _ = served_site
    page = browser.new_page(viewport=PHONE)
    visit(page, base + "explorer/")
    first = page.locator("[name=input-size]").bounding_box()
    page.fill("[name=input-size]", "636")
    answer = page.locator("#explorer-output").bounding_box()
    # A phone's keyboard covers about the lower 40 % of the 844 px screen: the answer must sit above it.
    assert first["y"] < 300 and answer["y"] + answer["height"] < 0.6 * PHONE["height"], (first, answer)
    boxes = page.eval_on_selector_all("form input, form select", "es => es.map(e => e.getBoundingClientRect().right)")
    assert max(boxes) <= PHONE["width"]
    header = page.eval_on_selector_all(
        "#explorer-table th", "ths => ths.map(t => [t.textContent, t.getBoundingClientRect().right])"
    )
    params = next(right for text, right in header if text == "Params")
    assert 0 < params <= PHONE["width"]
    page.close()


class _Pages(SimpleHTTPRequestHandler):
    """A static host that answers a missing address with the site's 404.html, as GitHub Pages does."""

    site_prefix = "/sub/folder/site/"

    def log_message(self, *args: object) -> None:
        pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / self.site_prefix.strip("/") / "404.html"
        if code != 404 or not page.exists():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def test_the_404_page_works_from_a_sub_folder(served_site, browser, tmp_path):
    _, site = served_site
    root = tmp_path / "host"
    (root / "sub" / "folder").mkdir(parents=True)
    (root / "sub" / "folder" / "site").symlink_to(site, target_is_directory=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Pages, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        host = f"http://127.0.0.1:{server.server_address[1]}"
        page = browser.new_page(viewport=DESKTOP)
        failed: list[str] = []
        # The browser's preload scanner fetches the links before the script sets <base>, and drops them
        # (net::ERR_ABORTED) once it has: harmless; any other failure is not.
        page.on("requestfailed", lambda req: failed.append(req.url) if "ERR_ABORTED" not in str(req.failure) else None)
        response = visit(page, host + _Pages.site_prefix + "no/such/page/")
        assert response is not None and response.status == 404
        # Styled: Material's stylesheet applies (its header is fixed at the top).
        assert page.evaluate("() => getComputedStyle(document.querySelector('.md-header')).position") == "sticky"
        links = page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)")
        local = sorted({link.split("#")[0] for link in links if link.startswith(host)})
        assert len(local) >= 12
        assert [link for link in local if not link.startswith(host + _Pages.site_prefix)] == []
        statuses = page.evaluate("links => Promise.all(links.map(async l => [l, (await fetch(l)).status]))", local)
        broken = [f"{link}: {status}" for link, status in statuses if status != 200]
        settle(page)
        page.close()
        assert broken == [] and failed == []
    finally:
        server.shutdown()
        server.server_close()


def test_maths_is_mathml_rendered_in_place(served_site, browser):
    base, _ = served_site
    page = browser.new_page(viewport=DESKTOP)
    visit(page, base + "walkthrough/output-and-loss/")
    heights = page.eval_on_selector_all("article math", "ms => ms.map(m => m.getBoundingClientRect().height)")
    assert len(heights) >= 3 and all(h > 10 for h in heights)  # equations 1 and 2, the softmax: laid out
    assert page.locator("article pre code:has-text('w0 * exp')").count() == 0  # no longer a code block
    page.close()


def test_search_finds_xavier_and_snippets_start_with_the_pages_words(served_site, browser):
    base, site = served_site
    import json

    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    firsts = [d["text"][:40] for d in index["docs"] if "#" not in d["location"] and d["text"]]
    assert firsts and not [t for t in firsts if t.startswith("The U-Net for")], firsts
    page = browser.new_page(viewport=DESKTOP)
    visit(page, base)
    page.click("input.md-search__input")
    page.keyboard.type("xavier", delay=30)  # typed, as a reader does: the search listens to key presses
    page.wait_for_selector(".md-search-result__item", timeout=15000)
    found = page.inner_text(".md-search-result")
    assert "Paper versus implementations" in found
    page.close()

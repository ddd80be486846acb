"""The built site in a real browser: headless Chromium (Debian's), driven by Playwright.

Every page loads without console errors, every image has loaded, and a
screenshot of the walkthrough is not blank.
"""

from __future__ import annotations

import functools
import io
import os
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image

from unet_explain.docs.site import build_site

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served_site(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    site, _ = build_site(tmp_path_factory.mktemp("browser") / "site", ROOT / "mkdocs.yml")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", site
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: 'make test' should have installed it")
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield instance
        finally:
            instance.close()


def page_urls(base: str, site: Path) -> list[str]:
    return sorted(
        base + p.parent.relative_to(site).as_posix().removeprefix(".") + ("/" if p.parent != site else "")
        for p in site.rglob("index.html")
        if "search" not in p.parts
    )


def test_every_page_loads_cleanly_with_its_images(served_site, browser):
    base, site = served_site
    urls = page_urls(base, site)
    assert len(urls) >= 12
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
    page.on("requestfailed", lambda req: problems.append(f"failed request: {req.url} ({req.failure})"))
    images_seen = 0
    for url in urls:
        response = page.goto(url, wait_until="networkidle")
        assert response is not None and response.status == 200, url
        images = page.evaluate(
            "() => Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])"
        )
        for src, complete, width in images:
            assert complete and width > 0, f"{url}: image {src} did not load"
        images_seen += len(images)
    page.close()
    assert problems == []
    assert images_seen >= 1


def test_walkthrough_screenshot_is_not_blank(served_site, browser):
    base, _ = served_site
    page = browser.new_page(viewport={"width": 1280, "height": 900})
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

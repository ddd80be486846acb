"""Shared fixtures; ``--overwrite`` rewrites the golden files (review the diff before committing).

The built site, served, and a headless Chromium are here, shared by the docs,
browser and explorer tests. The suite runs in parallel (``make test``: ``pytest
-n 2 --dist loadgroup``); every fixture here is safe for that: the paper's site
is built once per run, by the first worker that needs it, and the others read
it. The tests that drive Chromium are all in one xdist group (``BROWSER_GROUP``),
so one worker launches it, once.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import math
import os
import re
import shutil
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

from unet_explain import UNetConfig, UNetSpec, build_spec

if TYPE_CHECKING:
    from playwright.sync_api import Page, Request, Response

GOLDEN = Path(__file__).parent / "golden"
ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
BROWSER_GROUP = "browser"  # the xdist group of every test that drives Chromium: one worker, one launch
BROWSER_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# The machine is shared (2 cores, CI and builds side by side): timing is not what the
# property tests check, so no deadlines and no "generation is slow" health checks.
settings.register_profile(
    "shared-machine", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
settings.load_profile("shared-machine")


# No silent skips: a test skipped because Graphviz's dot or Chromium is missing fails instead, with the
# install hint, unless the run opts out explicitly (make test never sets this variable).
ALLOW_SKIP = "UNET_EXPLAIN_ALLOW_SKIP"
TOOLS = {  # a word a skip reason names -> (is the tool here?, how to get it)
    "dot": (lambda: shutil.which("dot") is not None, "install Graphviz: 'sudo apt-get install graphviz'"),
    "chromium": (lambda: CHROMIUM.exists(), "install Chromium: 'sudo apt-get install chromium'"),
}
MISSING = pytest.StashKey[dict[str, str]]()


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[MISSING] = {tool: hint for tool, (here, hint) in TOOLS.items() if not here()}


def pytest_report_header(config: pytest.Config) -> str | None:
    missing = config.stash.get(MISSING, {})
    if not missing:
        return None
    what = "skip" if os.environ.get(ALLOW_SKIP) == "1" else "FAIL"
    return f"missing: {', '.join(missing)}; the tests that need them will {what} (make test installs them)"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = (yield).get_result()
    if not report.skipped or os.environ.get(ALLOW_SKIP) == "1":
        return
    reason = str(report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr)
    for tool, hint in item.config.stash.get(MISSING, {}).items():
        if re.search(rf"\b{tool}\b", reason, re.IGNORECASE):
            report.outcome = "failed"
            report.longrepr = (
                f"{reason}: a missing tool fails the suite, it does not skip; {hint} "
                f"(or run 'make test', which installs it; {ALLOW_SKIP}=1 skips instead)"
            )
            return


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--overwrite", action="store_true", help="rewrite golden files instead of comparing")


@pytest.fixture
def golden(request: pytest.FixtureRequest):
    """Compare text with ``tests/golden/<name>``, or rewrite it with ``--overwrite``."""

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if request.config.getoption("--overwrite"):
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"no golden file {path}; run pytest --overwrite and review it"
        assert text == path.read_text(encoding="utf-8")

    return check


@pytest.fixture(scope="session")
def paper_spec() -> UNetSpec:
    return build_spec(UNetConfig())


@pytest.fixture(scope="session")
def paper_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site for the paper's network, built (strict) from the clone's mkdocs.yml once per test run.

    The workers of one xdist run share the parent of their base temp folders: the first to take the lock
    there builds the site in it, the others wait and then read the same folder (no test writes to it).
    """
    from unet_explain.docs.site import MARKER, build_site

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    site = shared / "paper-site" / "site"
    with open(shared / "paper-site.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (site / MARKER).is_file():  # the build puts the finished site in place in one rename
            site.parent.mkdir(exist_ok=True)
            build_site(site, ROOT / "mkdocs.yml")
    return site


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def _serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on a free port of 127.0.0.1 while the block runs; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def served_site(paper_site: Path) -> Iterator[tuple[str, Path]]:
    """The paper's site served over HTTP: (base URL, folder)."""
    with _serve(paper_site) as base:
        yield base, paper_site


@pytest.fixture(scope="session")
def serve() -> object:
    """``with serve(folder) as base_url:``: serve another built site the same way."""
    return _serve


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's headless Chromium, driven by Playwright (skipped outside CI if it is not installed).

    Launched once per worker; the modules that use it mark themselves ``xdist_group(BROWSER_GROUP)``.
    """
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: 'make test' should have installed it")
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_FLAGS)
        try:
            yield instance
        finally:
            instance.close()


class _Requests:
    """The requests a page has in flight (sent, neither finished nor failed), and since when it has had none."""

    def __init__(self, page: Page) -> None:
        self.pending: set[Request] = set()
        self.quiet_since = -math.inf  # a new page has nothing to wait for
        page.on("request", lambda request: self.pending.add(request))
        page.on("requestfinished", lambda request: self.done(request))
        page.on("requestfailed", lambda request: self.done(request))

    def done(self, request: Request) -> None:
        self.pending.discard(request)
        if not self.pending:
            self.quiet_since = time.monotonic()


_WATCHED: weakref.WeakKeyDictionary[Page, _Requests] = weakref.WeakKeyDictionary()


def settle(page: Page, quiet: float = 0.1, timeout: float = 30.0) -> None:
    """Wait until ``page`` has no request in flight and has had none for ``quiet`` seconds.

    Before leaving a page: its requests, the search index and the favicon (which Chromium asks for once
    the rest is in) are done, so the next navigation cuts nothing off (a cut-off request fails,
    net::ERR_ABORTED). What Playwright's ``networkidle`` waits for, without its half second after each load.
    """
    if page not in _WATCHED:
        _WATCHED[page] = _Requests(page)
    watched = _WATCHED[page]
    deadline = time.monotonic() + timeout
    while True:
        page.wait_for_timeout(10)  # lets Playwright deliver the events
        if watched.pending:
            assert time.monotonic() < deadline, f"still loading after {timeout} s: {[r.url for r in watched.pending]}"
        elif time.monotonic() - watched.quiet_since >= quiet:
            return


def visit(page: Page, url: str) -> Response | None:
    """Open ``url`` in ``page`` once the page before it is quiet (``settle``), up to its load event; its response.

    At the load event every image is in; the page's last requests (the search index, the favicon) may
    still be in flight while the caller checks the page: the next ``visit`` or ``settle`` waits for them.
    """
    settle(page)  # often at once: the checks of the page before took that long
    return page.goto(url, wait_until="load")


# --- the docs' pages expanded in-process, and docs caches shared with real builds -----------------------------

DOCS_PAGES = sorted((ROOT / "docs").rglob("*.md"))
KERAS_PLACEHOLDER = re.compile(r"\{\{ *(summary|verify|compare|variant-gap|audit)\b[^}]*\}\}")


@pytest.fixture(scope="session")
def expand_pages() -> object:
    """``expand_pages(config, folder, keras=True)``: every page of docs/ expanded for ``config`` as a build does
    (the Keras placeholders left out unless ``keras``), with a docs cache in ``folder``. It returns the cache:
    ``.pages`` expanded, ``.used``, the cache items they took (made or found), and ``.kinds``, each text item's
    placeholder kind. A placeholder error raises."""
    from unet_explain.docs.cache import Cache
    from unet_explain.docs.placeholders import expand
    from unet_explain.docs.site import site_flags
    from unet_explain.docs.site_config import Site

    class Recorded(Cache):
        def __init__(self, folder: Path, site: Site) -> None:
            super().__init__(folder, site)
            self.used: set[Path] = set()
            self.kinds: dict[Path, str] = {}  # a text item's placeholder kind (figures are not text)
            self.pages = 0

        def get(self, key, suffix, make):  # type: ignore[no-untyped-def]
            path = super().get(key, suffix, make)
            self.used.add(path)
            return path

        def text(self, kind, args, make):  # type: ignore[no-untyped-def]
            self.kinds[self.folder / f"{self.key(kind, args)}.md"] = kind
            return super().text(kind, args, make)

    def expand_all(config: UNetConfig, folder: Path, keras: bool = True) -> Recorded:
        cache = Recorded(folder, Site(flags=site_flags(config), root=ROOT))
        for page in DOCS_PAGES:
            text = page.read_text(encoding="utf-8")
            if not keras:
                text = KERAS_PLACEHOLDER.sub("", text)
            expand(text, str(page.relative_to(ROOT / "docs")), cache)
            cache.pages += 1
        return cache

    return expand_all


@pytest.fixture(scope="session")
def seed_docs_cache() -> object:
    """``seed_docs_cache(items, folder=None)``: copy docs cache items (files of another docs cache) into
    ``folder``, by default the cache that a build from this clone reads (``.cache/docs``), keeping the items
    already there.

    The cache is keyed by content (the package's source, the site's flags, the placeholder), so an item a test
    expanded in-process is the one the build would make; the build then adds MkDocs and the hooks to it.
    """
    from unet_explain.docs.hooks import cache_folder

    def seed(items: Iterable[Path], folder: Path | None = None) -> None:
        target = folder or cache_folder(ROOT)
        target.mkdir(parents=True, exist_ok=True)
        for item in items:
            if not (target / item.name).exists():
                partial = target / f".{item.name}.{os.getpid()}.seeding"
                shutil.copyfile(item, partial)
                os.replace(partial, target / item.name)  # a build beside this one reads whole items only

    return seed

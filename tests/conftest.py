"""Shared fixtures; ``--overwrite`` rewrites the golden files (review the diff before committing)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from unet_explain import UNetConfig, UNetSpec, build_spec

GOLDEN = Path(__file__).parent / "golden"

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
    "chromium": (lambda: Path("/usr/bin/chromium").exists(), "install Chromium: 'sudo apt-get install chromium'"),
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

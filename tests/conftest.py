"""Shared fixtures; ``--overwrite`` rewrites the golden files (review the diff before committing)."""

from __future__ import annotations

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

"""A missing Graphviz or Chromium fails the suite with the install hint; only an explicit opt-out skips."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent

NEEDS_DOT = """
import shutil
import pytest

@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_draws():
    pass

def test_unrelated_skip():
    pytest.skip("running as root: permissions do not stop writing")
"""


def run_without_dot(folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    bare = folder / "bin"  # a PATH with python and nothing else: no dot
    bare.mkdir()
    (bare / "python").symlink_to(sys.executable)
    environ = {k: v for k, v in os.environ.items() if k != "UNET_EXPLAIN_ALLOW_SKIP"}
    environ |= {"PATH": str(bare), "PYTHONPATH": str(HERE.parent), **env}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
        capture_output=True, text=True, env=environ, cwd=folder, check=False,
    )  # fmt: skip


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    shutil.copy(HERE / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_needs_dot.py").write_text(NEEDS_DOT)
    return tmp_path


def test_missing_dot_fails_with_the_install_hint(suite):
    result = run_without_dot(suite)
    assert result.returncode == 1, result.stdout
    assert "sudo apt-get install graphviz" in result.stdout
    assert "1 passed" not in result.stdout and "1 skipped" in result.stdout  # the unrelated skip stays a skip
    assert "1 error" in result.stdout


def test_the_opt_out_variable_skips(suite):
    result = run_without_dot(suite, UNET_EXPLAIN_ALLOW_SKIP="1")
    assert result.returncode == 0, result.stdout
    assert "2 skipped" in result.stdout


def test_make_test_never_sets_the_opt_out():
    assert "UNET_EXPLAIN_ALLOW_SKIP" not in (HERE.parent / "Makefile").read_text()

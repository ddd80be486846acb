"""The maintained mutations (``make mutate``) still apply to the code they mutate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_mutation_still_applies_and_names_its_tests():
    patches = sorted((ROOT / "mutations").glob("*.patch"))
    assert len(patches) >= 20
    for patch in patches:
        kill = next(line for line in patch.read_text().splitlines() if line.startswith("Kill: "))
        assert kill.split()[1].startswith("tests/test_") and (ROOT / kill.split()[1]).exists(), patch.name
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "mutate.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr  # a stale patch: regenerate it against the code
    assert result.stdout.splitlines()[-1] == f"{len(patches)} apply, 0 stale"

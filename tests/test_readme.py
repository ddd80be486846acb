"""The README's Python example runs, and every ``expr  # value`` comment in it is true."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.keras
def test_readme_python_example_runs_and_its_comments_hold():
    blocks = python_blocks()
    assert blocks, "the README has a Python example"
    checked = 0
    for block in blocks:
        namespace: dict[str, object] = {}
        for line in block.splitlines():
            code, _, comment = line.partition("  # ")
            exec(code, namespace)
            try:
                expected = ast.literal_eval(comment.strip())
            except (ValueError, SyntaxError):
                continue
            target = code.split("=", 1)[0].strip() if re.match(r"^\w+ = ", code) else code
            assert eval(target, namespace) == expected, line
            checked += 1
    assert checked >= 3

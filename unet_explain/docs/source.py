"""``{{ source FILE:NAME }}``: a section or function of the package's own source, never pasted."""

from __future__ import annotations

import ast
import re
import textwrap

from unet_explain.docs.site_config import PACKAGE_DIR, PlaceholderError, Site

_MARKER = re.compile(r"^\s*# --8<-- \[(start|end):([\w-]+)\]\s*$")


def source_lines(file: str, name: str) -> tuple[int, list[str]]:
    """The first line number and the lines of section ``name`` (``# --8<-- [start:name]``) or function ``name``."""
    path = (PACKAGE_DIR / file).resolve()
    if not path.is_relative_to(PACKAGE_DIR) or path.suffix != ".py" or not path.is_file():
        raise PlaceholderError(f"no package file {file!r} (paths are relative to unet_explain/)")
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == f"# --8<-- [start:{name}]"), None)
    if start is not None:
        end = next((i for i in range(start, len(lines)) if lines[i].strip() == f"# --8<-- [end:{name}]"), None)
        if end is None:
            raise PlaceholderError(f"{file}: section {name!r} has no end marker")
        body = [(i + 1, line) for i, line in enumerate(lines[start + 1 : end], start + 1)]
    else:
        tree = ast.parse("\n".join(lines))
        found = next(
            (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef) and n.name == name), None
        )
        if found is None or found.end_lineno is None:
            raise PlaceholderError(f"{file}: no section or function {name!r}")
        first = min([found.lineno, *(d.lineno for d in found.decorator_list)])
        body = [(i, lines[i - 1]) for i in range(first, found.end_lineno + 1)]
    kept = [(n, line) for n, line in body if not _MARKER.match(line)]
    return kept[0][0], textwrap.dedent("\n".join(line for _, line in kept)).splitlines()


def source(words: list[str], site: Site) -> str:
    """A section or function of the package's own source, as a titled code block (never pasted)."""
    if len(words) != 1 or ":" not in words[0]:
        raise PlaceholderError("source takes FILE:NAME, e.g. model/keras_unet.py:conv3x3")
    file, name = words[0].rsplit(":", 1)
    first, lines = source_lines(file, name)
    title = f"unet_explain/{file}, line {first}"
    return f'```python title="{title}" linenums="{first}"\n' + "\n".join(lines) + "\n```\n"

"""ASCII for a terminal that cannot show more (``PYTHONIOENCODING=ascii``): arrows, rules, signs."""

from __future__ import annotations

import codecs
import contextlib
import io
import sys
import unicodedata
from typing import Any

# Characters the output uses, and what they become on a terminal that cannot show them (PYTHONIOENCODING=ascii).
_ASCII = {"→": "->", "←": "<-", "↑": "^", "↓": "v", "×": "x", "—": "-", "–": "-", "…": "...", "≈": "~", "·": "."}
_ASCII |= {"≤": "<=", "≥": ">=", "²": "^2", "σ": "sigma", "✓": "ok", "✗": "x", "█": "#", "░": ".", "▒": ":"}
_ASCII |= {"’": "'", "‘": "'", "“": '"', "”": '"', "•": "*", "▶": ">", "◀": "<", "⇒": "=>"}


def ascii_for(char: str) -> str:
    """The ASCII spelling of one character."""
    if char in _ASCII:
        return _ASCII[char]
    name = unicodedata.name(char, "")
    if name.startswith("BOX DRAWINGS"):
        vertical, horizontal = "VERTICAL" in name or "DOWN" in name or "UP" in name, "HORIZONTAL" in name
        return "+" if vertical and (horizontal or "LEFT" in name or "RIGHT" in name) else "|" if vertical else "-"
    if "ARROW" in name:
        return next((a for w, a in (("RIGHT", "->"), ("LEFT", "<-"), ("UP", "^"), ("DOWN", "v")) if w in name), "?")
    plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
    return plain or "?"


def ascii_text(text: str) -> str:
    """``text`` with every non-ASCII character spelled in ASCII."""
    return "".join(c if c.isascii() else ascii_for(c) for c in text)


def asciify(renderable: Any) -> Any:
    """The same rich renderable with every string spelled in ASCII (tables, groups and texts, recursively)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    if isinstance(renderable, str):
        return ascii_text(renderable)
    if isinstance(renderable, Text):
        cuts = sorted({i for span in renderable.spans for i in (span.start, span.end)})
        plain = Text(style=renderable.style, justify=renderable.justify, no_wrap=renderable.no_wrap, end=renderable.end)
        for piece in renderable.divide(cuts):
            part = Text(ascii_text(piece.plain), style=piece.style)
            for span in piece.spans:
                part.stylize(span.style, 0, len(part.plain))
            plain.append_text(part)
        return plain
    if isinstance(renderable, Table):
        renderable.title = asciify(renderable.title) if renderable.title is not None else None
        renderable.caption = asciify(renderable.caption) if renderable.caption is not None else None
        for column in renderable.columns:
            column.header = asciify(column.header)
            column.footer = asciify(column.footer)
            column._cells = [asciify(cell) for cell in column._cells]
        return renderable
    if isinstance(renderable, Group):
        return Group(*(asciify(part) for part in renderable.renderables))
    return renderable


def _ascii_errors(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeEncodeError):
        raise err
    # Here the layout is done: keep rich's ellipsis one character wide.
    bad = err.object[err.start : err.end]
    return "".join("." if c == "…" else ascii_for(c) for c in bad), err.end


def ascii_fallback() -> None:
    """Let stdout and stderr replace what their encoding cannot show (arrows, rules) instead of failing."""
    codecs.register_error("unet_explain_ascii", _ascii_errors)
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            with contextlib.suppress(OSError, ValueError):
                stream.reconfigure(errors="unet_explain_ascii")

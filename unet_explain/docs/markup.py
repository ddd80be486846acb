"""Markdown and HTML bits the generated pages share: a console block, the table box, lists, table rows."""

from __future__ import annotations

import html


def console_block(lines: str) -> str:
    """Terminal text in a block that wraps its long lines instead of running off the page."""
    return f'<pre class="unet-console"><code>{html.escape(lines.rstrip())}</code></pre>\n'


def stage_table(markdown: str) -> str:
    """The per-stage table in a box that the stylesheet sets smaller, so its ten columns fit."""
    return f'<div class="unet-stage-table" markdown>\n\n{markdown}\n</div>\n'


def and_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def md_row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

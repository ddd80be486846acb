"""rich renderables (what the CLI prints) as markdown, so the site shows the CLI's tables as real tables.

The command line draws its output with rich for a terminal; on a web page a
fixed-width dump either overflows the column or wraps into noise. Every CLI
command prints through one function (``cli.console.print_wide``), so the docs capture
the renderable there (``capture_renderables``) and turn it into markdown with this module: the same
rows, columns and totals, laid out by the browser.
"""

from __future__ import annotations

from typing import Any


def _cell(value: Any) -> str:
    from rich.text import Text

    text = value.plain if isinstance(value, Text) else str(value)
    return " ".join(text.split()).replace("|", "\\|")


def table_markdown(table: Any) -> str:
    """A rich ``Table`` as a markdown table (title above, footer as a bold last row)."""
    columns = table.columns
    if not table.show_header and len(columns) == 2:  # a key/value table: a list reads better than a headless table
        title = [f"**{_cell(table.title)}**", ""] if table.title else []
        items = [f"- **{_cell(columns[0]._cells[i])}**: {_cell(columns[1]._cells[i])}" for i in range(table.row_count)]
        return "\n".join([*title, *items]) + "\n"
    align = ["---:" if column.justify == "right" else ":---" for column in columns]
    header = [_cell(column.header) if table.show_header else "" for column in columns]
    lines = []
    if table.title:
        lines += [f"**{_cell(table.title)}**", ""]
    lines += ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    for i in range(table.row_count):
        lines.append("| " + " | ".join(_cell(column._cells[i]) for column in columns) + " |")
    if table.show_footer:
        footer = [_cell(column.footer) for column in columns]
        lines.append("| " + " | ".join(f"**{c}**" if c else "" for c in footer) + " |")
    return "\n".join(lines) + "\n"


def to_markdown(renderable: Any) -> str:
    """A table, a group of tables and texts, a text or a string, as markdown blocks."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    if isinstance(renderable, Table):
        return table_markdown(renderable)
    if isinstance(renderable, Group):
        return "\n".join(to_markdown(part) for part in renderable.renderables)
    if isinstance(renderable, Text):
        return renderable.plain.strip() + "\n"
    return str(renderable).strip() + "\n"

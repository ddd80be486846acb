"""The U in the terminal: one row per level, the contracting path on the left, the expansive on the right.

For machines without Graphviz, and for a quick look. rich aligns the columns;
the colours are the diagram's.
"""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from unet_explain.config import format_size
from unet_explain.core import names
from unet_explain.core.spec import Stage, UNetSpec
from unet_explain.render import diagram as d
from unet_explain.render.formatting import title


def _map(size: tuple[int, int], channels: int | str) -> str:
    return f"{format_size(size)}x{channels}"


def _arrow(op: str, text: str = " → ") -> Text:
    return Text(text, style=d.OPERATIONS[op].color)


def _chain(stage: Stage, first: Text) -> Text:
    out = first.copy()
    for size in stage.conv_sizes:
        out.append_text(_arrow(d.CONV))
        out.append(_map(size, stage.channels))
    return out


def u_text(spec: UNetSpec) -> Table:
    """A rich renderable of the U: rows are levels, the bottleneck at the bottom, crops in the middle."""
    config = spec.config
    table = Table(title=title(spec), box=box.SIMPLE, show_header=False, pad_edge=False, title_style="bold")
    table.add_column("level", style="bold")
    table.add_column("contracting", justify="left", no_wrap=True)
    table.add_column("copy and crop", justify="center", no_wrap=True)
    table.add_column("expansive", justify="left", no_wrap=True)
    table.add_column("level", style="bold")
    decoders = {s.level: s for s in spec.stages if s.path == names.EXPANSIVE}
    output = spec.stage(names.OUTPUT)
    entering = Text(_map(config.input_size, config.in_channels))
    for stage in spec.stages:
        if stage.path == names.CONTRACTING:
            dec = decoders[stage.level]
            assert dec.up_size is not None and dec.up_channels is not None
            left = _chain(stage, entering)
            copy = Text("╌ ", style=d.OPERATIONS[d.COPY].color)
            copy.append(d.crop_label(dec), style="dim")
            copy.append(" ╌▶", style=d.OPERATIONS[d.COPY].color)
            right = _chain(dec, Text(_map(dec.up_size, f"({dec.channels}+{dec.up_channels})")))
            right_name = dec.name
            if stage.level == 1:
                right.append_text(_arrow(d.HEAD, " ⇒ "))
                right.append(_map(output.out_size, output.channels))
                right_name += " + output"
            table.add_row(stage.name, left, copy, right, right_name)
            table.add_row(
                "", _arrow(d.POOL, "  ↓ max pool 2x2"), "", _arrow(d.UPCONV, "  ↑ up-conv 2x2"), "", end_section=False
            )
            assert stage.pool_size is not None
            entering = Text(_map(stage.pool_size, stage.channels))
        elif stage.path == names.BOTTLENECK:
            table.add_row(stage.name, "", _chain(stage, entering), "", "")
    legend = Text()
    for op in d.OPERATIONS.values():
        legend.append("━━▶ " if op.style == "solid" else "╌╌▶ ", style=op.color)
        legend.append(op.label + "   ")
    table.caption = legend
    return table

"""The per-stage table as markdown, CSV, JSON, LaTeX and HTML text.

Human formats share the cells of :mod:`.formatting`; CSV and JSON carry the raw
numbers for scripts (JSON follows the contract in the README).
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Callable

from unet_explain.core.spec import UNetSpec
from unet_explain.render import formatting as fmt


def to_json(spec: UNetSpec) -> str:
    """The JSON contract: ``config``, ``stages`` (data-flow order) and ``totals``."""
    return json.dumps(spec.as_dict(), indent=2) + "\n"


CSV_FIELDS = (
    "name", "path", "level", "in_h", "in_w", "in_channels", "out_h", "out_w", "channels",
    "pool_h", "pool_w", "up_h", "up_w", "skip_from", "skip_h", "skip_w", "crop_rows", "crop_cols",
    "concat_channels", "params", "macs", "activation_bytes",
)  # fmt: skip


def csv_fields(dims: int) -> tuple[str, ...]:
    """The CSV columns: a volume adds a ``_d`` (``crop_slices``) column after each ``_w`` (``crop_cols``)."""
    if dims == 2:
        return CSV_FIELDS
    fields: list[str] = []
    for name in CSV_FIELDS:
        fields.append(name)
        if name.endswith("_w"):
            fields.append(name[:-2] + "_d")
        elif name == "crop_cols":
            fields.append("crop_slices")
    return tuple(fields)


def to_csv(spec: UNetSpec) -> str:
    """One row per stage with raw numbers, then a ``total`` row."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=csv_fields(len(spec.config.input_size)), lineterminator="\n")
    writer.writeheader()

    def pair(prefix_h: str, prefix_w: str, size: tuple[int, ...] | None) -> dict[str, object]:
        if not size:
            return {}
        row: dict[str, object] = {prefix_h: size[0], prefix_w: size[1]}
        if len(size) == 3:
            row["crop_slices" if prefix_w == "crop_cols" else prefix_w[:-2] + "_d"] = size[2]
        return row

    for s in spec.stages:
        row: dict[str, object] = {
            "name": s.name,
            "path": s.path,
            "level": s.level,
            "in_channels": s.in_channels,
            "channels": s.channels,
            "skip_from": s.skip_from or "",
            "concat_channels": s.concat_channels or "",
            "params": s.params,
            "macs": s.macs,
            "activation_bytes": s.activation_bytes,
        }
        row.update(pair("in_h", "in_w", s.in_size))
        row.update(pair("out_h", "out_w", s.out_size))
        row.update(pair("pool_h", "pool_w", s.pool_size))
        row.update(pair("up_h", "up_w", s.up_size))
        row.update(pair("skip_h", "skip_w", s.skip_size))
        row.update(pair("crop_rows", "crop_cols", s.crop))
        writer.writerow(row)
    t = spec.totals
    writer.writerow(
        {"name": "total", **pair("out_h", "out_w", t.output_size), "channels": spec.config.num_classes,
         "params": t.params, "macs": t.macs, "activation_bytes": t.activation_bytes}
    )  # fmt: skip
    return out.getvalue()


def _grid(spec: UNetSpec, arrow: str, escape: Callable[[str], str]) -> tuple[list[str], list[list[str]], list[str]]:
    header = [escape(fmt.header(c, spec).replace("\n", " ")) for c in fmt.Column]
    body = [[escape(row.cells[c]) for c in fmt.Column] for row in fmt.rows(spec, arrow)]
    totals = fmt.totals_cells(spec, arrow)
    footer = [escape(totals.get(c, "")) for c in fmt.Column]
    return header, body, footer


def to_markdown(spec: UNetSpec) -> str:
    """A GitHub-flavoured markdown table with a bold totals row."""
    header, body, footer = _grid(spec, fmt.ARROW, lambda s: s.replace("|", "\\|"))
    align = ["---:" if c in fmt.NUMERIC else ":---" for c in fmt.Column]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    lines.append("| " + " | ".join(f"**{c}**" if c else "" for c in footer) + " |")
    return "\n".join(lines) + "\n"


_LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "_": r"\_", "#": r"\#", "$": r"\$", "{": r"\{", "}": r"\}"}


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text).replace("LATEXARROW", r"$\rightarrow$")


def to_latex(spec: UNetSpec) -> str:
    """A booktabs ``tabular`` (needs ``\\usepackage{booktabs}``)."""
    header, body, footer = _grid(spec, "LATEXARROW", _latex_escape)
    align = "".join("r" if c in fmt.NUMERIC else "l" for c in fmt.Column)
    lines = [
        f"% {fmt.title(spec)}",
        rf"\begin{{tabular}}{{{align}}}",
        r"\toprule",
        " & ".join(header) + r" \\",
        r"\midrule",
    ]
    previous = None
    for row, cells in zip(spec.stages, body, strict=True):
        if previous is not None and row.path != previous:
            lines.append(r"\midrule")
        previous = row.path
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\midrule", " & ".join(footer) + r" \\", r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def to_html(spec: UNetSpec) -> str:
    """A plain HTML table (Jupyter's ``_repr_html_``)."""
    header, body, footer = _grid(spec, fmt.ARROW, html.escape)
    head = "".join(f"<th>{c}</th>" for c in header)
    rows = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>" for cells in body)
    foot = "".join(f"<th>{c}</th>" for c in footer)
    caption = html.escape(fmt.title(spec))
    return (
        f"<table><caption>{caption}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{rows}</tbody><tfoot><tr>{foot}</tr></tfoot></table>"
    )


FORMATS: dict[str, Callable[[UNetSpec], str]] = {
    "markdown": to_markdown,
    "csv": to_csv,
    "json": to_json,
    "latex": to_latex,
    "html": to_html,
}

"""The per-stage table as a rich renderable, and the verify report.

rich is imported here and nowhere in the core: a renderable is data, and
printing happens in the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.table import Table
from rich.text import Text

from unet_explain.core import names
from unet_explain.core.spec import UNetSpec
from unet_explain.render import formatting as fmt

if TYPE_CHECKING:
    from unet_explain.core.sizes import ValidSizes
    from unet_explain.model.verify import VerifyReport

PATH_STYLES = {
    names.CONTRACTING: "cyan",
    names.BOTTLENECK: "magenta",
    names.EXPANSIVE: "green",
    names.OUTPUT: "yellow",
}


def stage_table(spec: UNetSpec) -> Table:
    """The per-stage table, grouped by path, with totals in the footer."""
    footer = fmt.totals_cells(spec)
    table = Table(
        title=fmt.title(spec),
        box=box.SIMPLE_HEAD,
        show_footer=True,
        header_style="bold",
        footer_style="bold",
        title_style="bold",
        pad_edge=False,
        collapse_padding=True,
    )
    for column in fmt.Column:
        table.add_column(
            column.value,
            footer=footer.get(column, ""),
            justify="right" if column in fmt.NUMERIC else "left",
            no_wrap=True,
        )
    previous_path = None
    for row in fmt.rows(spec):
        path = row.stage.path
        if path != previous_path:
            if previous_path is not None:
                table.add_section()
            if path in (names.CONTRACTING, names.EXPANSIVE):
                table.add_row(Text(fmt.PATH_TITLES[path], style=f"italic {PATH_STYLES[path]}"))
            previous_path = path
        cells = [row.cells[column] for column in fmt.Column]
        table.add_row(Text(cells[0], style=f"bold {PATH_STYLES[path]}"), *cells[1:])
    return table


def _shape(shape: tuple[int, int, int] | None) -> str:
    return "-" if shape is None else f"{shape[0]}x{shape[1]}x{shape[2]}"


def verify_table(report: VerifyReport) -> Table:
    """Spec and Keras side by side, layer by layer."""
    table = Table(
        title=f"Analytic spec against the Keras model: {report.config.describe()}",
        box=box.SIMPLE_HEAD,
        show_footer=True,
        header_style="bold",
        footer_style="bold",
        title_style="bold",
        pad_edge=False,
    )
    table.add_column("Layer", footer="total")
    table.add_column("Spec shape")
    table.add_column("Keras shape")
    table.add_column("Spec params", justify="right", footer=fmt.count(report.spec_total))
    table.add_column("Keras params", justify="right", footer=fmt.count(report.keras_total))
    verdict = "agree" if report.ok else f"{len(report.mismatches)} differ"
    table.add_column("", footer=verdict)
    for check in report.layers:
        table.add_row(
            check.name,
            _shape(check.spec_shape),
            _shape(check.keras_shape),
            "-" if check.spec_params is None else fmt.count(check.spec_params),
            "-" if check.keras_params is None else fmt.count(check.keras_params),
            Text("ok", style="green") if check.ok else Text("MISMATCH", style="bold red"),
        )
    return table


def sizes_table(sizes: ValidSizes) -> Table:
    """Valid input sides with their output side, context margin and bottleneck input."""
    table = Table(
        title=f"Valid input sizes from {sizes.minimum} to {sizes.maximum} "
        f"(depth {sizes.depth}, padding {sizes.padding}): {len(sizes.rows)} found",
        box=box.SIMPLE_HEAD,
        header_style="bold",
        title_style="bold",
        pad_edge=False,
    )
    for heading in ("Input", "Output", "Margin per side", "Entering bottleneck"):
        table.add_column(heading, justify="right")
    for row in sizes.rows:
        table.add_row(str(row.input), str(row.output), str(row.margin), str(row.bottleneck))
    return table

"""The per-stage table as a rich renderable, and the verify report.

rich is imported here and nowhere in the core: a renderable is data, and
printing happens in the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from unet_explain.config import axis_names, format_size
from unet_explain.core import names
from unet_explain.core.spec import UNetSpec
from unet_explain.render import formatting as fmt

if TYPE_CHECKING:
    from unet_explain.core.receptive_field import AxisField, FieldReport
    from unet_explain.core.sizes import AxisCheck, ValidSizes
    from unet_explain.core.tiling import TilePlan
    from unet_explain.model.audit import AuditReport
    from unet_explain.model.verify import VerifyReport


def _table(title: str, **options: Any) -> Table:
    """A table in the house style: a simple head rule, bold header, footer and title."""
    style: dict[str, Any] = {"box": box.SIMPLE_HEAD, "header_style": "bold", "footer_style": "bold"}
    return Table(title=title, title_style="bold", **(style | options))


PATH_STYLES = {
    names.CONTRACTING: "cyan",
    names.BOTTLENECK: "magenta",
    names.EXPANSIVE: "green",
    names.OUTPUT: "yellow",
}


TRAIN_COLUMN = "Kept for\ntraining"


def stage_table(spec: UNetSpec, kept: dict[str, int] | None = None) -> Table:
    """The per-stage table, grouped by path, with totals in the footer.

    ``kept`` (bytes by stage, from :func:`unet_explain.core.memory.kept_by_stage`) adds a column: what a
    training step keeps for the backward pass.
    """
    footer = fmt.totals_cells(spec)
    table = _table(fmt.title(spec), show_footer=True, pad_edge=False, collapse_padding=True)
    for column in fmt.Column:
        table.add_column(
            fmt.header(column, spec),
            footer=footer.get(column, ""),
            justify="right" if column in fmt.NUMERIC else "left",
            no_wrap=True,
        )
    if kept is not None:
        table.add_column(TRAIN_COLUMN, footer=fmt.megabytes(sum(kept.values())), justify="right", no_wrap=True)
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
        if kept is not None:
            cells.append(fmt.megabytes(kept[row.stage.name]))
        # Text, not str: the numbers hold no markup, and rich would parse each string for it.
        table.add_row(Text(cells[0], style=f"bold {PATH_STYLES[path]}"), *map(Text, cells[1:]))
    return table


def _shape(shape: tuple[int, ...] | None) -> str:
    return "-" if shape is None else "x".join(map(str, shape))


def _params(count: int | None) -> str:
    return "-" if count is None else fmt.count(count)


def verify_table(report: VerifyReport) -> Table:
    """Spec, the package's Keras model and the independent one side by side, layer by layer."""
    table = _table(
        f"Analytic spec against the Keras model: {report.config.describe()}", show_footer=True, pad_edge=False
    )
    independent = report.reference_total is not None
    table.add_column("Layer", footer="total")
    table.add_column("Spec shape")
    table.add_column("Keras shape")
    if independent:
        table.add_column("Independent shape")
    table.add_column("Spec params", justify="right", footer=fmt.count(report.spec_total))
    table.add_column("Keras params", justify="right", footer=fmt.count(report.keras_total))
    if independent:
        table.add_column("Independent params", justify="right", footer=_params(report.reference_total))
    verdict = "agree" if report.ok else f"{len(report.mismatches) + len(report.wiring)} differ"
    table.add_column("", footer=verdict)
    for check in report.layers:
        shapes = [_shape(check.spec_shape), _shape(check.keras_shape)]
        params = [_params(check.spec_params), _params(check.keras_params)]
        if independent:
            shapes.append(_shape(check.reference_shape))
            params.append(_params(check.reference_params))
        mark = Text("ok", style="green") if check.ok else Text("MISMATCH", style="bold red")
        table.add_row(check.name, *shapes, *params, mark)
    if report.wiring:
        table.caption = "Wired differently from the independent model: " + "; ".join(report.wiring)
    return table


def sizes_table(sizes: ValidSizes) -> Table:
    """Valid input sides with their output side, context margin and bottleneck input."""
    table = _table(
        f"Valid input sizes from {sizes.minimum} to {sizes.maximum} "
        f"(depth {sizes.depth}, padding {sizes.padding}): {len(sizes.rows)} found",
        pad_edge=False,
    )
    for heading in ("Input", "Output", "Margin per side", "Entering bottleneck"):
        table.add_column(heading, justify="right")
    for row in sizes.rows:
        table.add_row(str(row.input), str(row.output), str(row.margin), str(row.bottleneck))
    return table


def axes_table(axes: tuple[AxisCheck, ...]) -> Table:
    """A volume's tile, axis by axis: each side's validity, its nearest valid sides and its output."""
    table = _table("The tile, axis by axis (the rules hold on each axis on its own)", pad_edge=False)
    for heading in ("Axis", "Side", "Valid", "Nearest below", "Nearest above", "Output"):
        table.add_column(heading, justify="left" if heading == "Axis" else "right")
    for a in axes:
        table.add_row(
            a.axis, str(a.side), "yes" if a.valid else "no",
            *("-" if n is None else str(n) for n in (a.below, a.above, a.output)),
        )  # fmt: skip
    return table


def field_tables(report: FieldReport, spec: UNetSpec) -> Group:
    """The exact receptive field of the output map, the textbook number, and each stage's field."""
    axes = report.axes
    titles = [name.capitalize() for name in axis_names(len(axes))]
    unit = "voxel" if len(axes) == 3 else "pixel"
    summary = _table(f"Receptive field of one output {unit}: {spec.config.describe()}", pad_edge=False)
    summary.add_column("")
    for heading in titles:
        summary.add_column(heading, justify="right")

    def spread(field: AxisField) -> str:
        return ", ".join(f"{size} px: {n}" for size, n in field.sizes.items())

    summary.add_row("exact, smallest", *(str(a.smallest) for a in axes))
    summary.add_row("exact, largest", *(str(a.largest) for a in axes))
    summary.add_row("output positions by field size", *(spread(a) for a in axes))
    summary.add_row(
        "farthest reach before .. after, over all positions (no one pixel reaches both)",
        *(f"{a.offset_min:+d} .. {a.offset_max:+d}" for a in axes),
    )
    margin = spec.totals.context_margin
    summary.add_row(
        "context margin per side: input beyond the output tile (table, tile)",
        *(str(m) for m in margin),
    )
    summary.add_row("textbook recursion", *(str(report.textbook) for _ in axes), style="dim")

    stages = _table("Receptive field of one unit, per stage")
    stages.add_column("Stage")
    for heading in titles:
        stages.add_column(f"{heading} (min-max)", justify="right")
    for name, field in report.stages.items():
        spans = zip(field.smallest, field.largest, strict=True)
        stages.add_row(name, *(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in spans))
    widths = sorted({w for a in axes for w in a.sizes})
    where = (
        " or ".join(map(str, widths)) + " pixels"
        if len(widths) <= 2
        else f"one of {len(widths)} widths from {widths[0]} to {widths[-1]} pixels"
    )
    why = Text(
        "Why the textbook number differs: the recursion follows one path and gives every unit of a layer the "
        "same field. Here 2x2 pooling windows start at even positions, each up-convolution copies one unit "
        "into two neighbours, and the skip connections join paths of different depth, so the field depends on "
        f"where the output pixel sits: {where}, "
        f"where the recursion says {report.textbook}.",
        style="italic",
    )
    note = Table.grid()
    note.add_column(max_width=100)
    note.add_row(why)
    return Group(summary, stages, note)


def tile_table(plan: TilePlan, spec: UNetSpec) -> Table:
    """An overlap-tile plan as a two-column table."""
    volume = len(plan.image_size) == 3
    image = format_size(plan.image_size)
    table = _table(
        f"Overlap-tile plan for a {image} {'volume' if volume else 'image'}: {spec.config.describe()}",
        show_header=False,
        pad_edge=False,
    )
    table.add_column(style="bold")
    table.add_column()
    table.add_row("input tile -> output tile", f"{format_size(plan.input_tile)} -> {format_size(plan.output_tile)}")
    margin = f"{plan.margin[0]} px above and below, {plan.margin[1]} px left and right"
    table.add_row("context margin", margin + (f", {plan.margin[2]} in front and behind" if volume else ""))
    tiles = plan.tiles
    table.add_row(
        "grid",
        " x ".join(
            f"{n:,} {axis[:-1]}{'s' * (n != 1)}" for n, axis in zip(plan.grid, axis_names(len(plan.grid)), strict=True)
        )
        + f" = {tiles:,} tile{'s' * (tiles != 1)}",
    )
    pads = f"top {plan.pad_before[0]}, bottom {plan.pad_after[0]}, left {plan.pad_before[1]}, right {plan.pad_after[1]}"
    if volume:
        pads += f", front {plan.pad_before[2]}, back {plan.pad_after[2]}"
    table.add_row("mirror padding", pads)
    table.add_row("padded image", format_size(plan.padded_size))
    table.add_row(
        "output computed",
        f"{format_size(plan.computed_size)}, of which {image} inside the image ({plan.useful_fraction:.1%})",
    )
    table.add_row(
        "compute",
        f"{tiles:,} tile{'s' * (tiles != 1)} x {fmt.si(plan.macs_per_tile)} = "
        f"{fmt.si(plan.total_macs)} multiply-accumulates",
    )
    return table


def audit_tables(report: AuditReport) -> Group:
    """The audit of one model: the skip connections found, then deviations, notes and the task settings."""
    from unet_explain.model.audit import title

    levels = _table(f"Audit of {report.name!r}: skip connections found, deepest first")
    for heading in ("Level", "Copies", "Taken", "Matched by", "Up-sampling", "After it", "Concatenation"):
        levels.add_column(heading)
    for s in report.skips:
        levels.add_row(
            str(s.level),
            s.source,
            s.taken,
            s.match,
            s.upsampling,
            s.after_upsampling,
            "copy first" if s.copy_first else "up-sampled first",
        )

    parts: list[Any] = [levels]
    if not report.deviations:
        parts.append(Text("No deviation from the paper found.", style="bold green"))
    else:
        verdict = _table(f"{len(report.deviations)} deviations from the paper")
        verdict.add_column("Aspect", style="bold", max_width=26)
        verdict.add_column("This model", max_width=34)
        verdict.add_column("The paper", max_width=30)
        verdict.add_column("What it changes", max_width=64)
        for d in report.deviations:
            verdict.add_row(title(d.aspect), d.found, d.paper, d.meaning)
        parts.append(verdict)
    if report.notes:
        notes = _table("Notes: differences that change nothing", show_header=False)
        notes.add_column(style="bold", max_width=26)
        notes.add_column(max_width=110)
        for n in report.notes:
            notes.add_row(title(n.aspect), n.text)
        parts.append(notes)
    config = _table("Task settings (not deviations)", show_header=False)
    config.add_column(style="bold")
    config.add_column(max_width=110)
    (ih, iw), (oh, ow) = report.input_size, report.output_size
    config.add_row("input", f"{ih}x{iw}, {report.in_channels} channel{'s' if report.in_channels != 1 else ''}")
    if report.size_note:
        config.add_row("input size", report.size_note)
    config.add_row("output", f"{oh}x{ow}, {report.num_classes} class channel{'s' if report.num_classes != 1 else ''}")
    config.add_row("parameters", report.params_account())
    config.add_row("compared with", report.paper_note)
    parts.append(config)
    return Group(*parts)


def compare_table(reports: dict[str, AuditReport], notes: dict[str, str]) -> Group:
    """Variants side by side, every row computed from the built models."""
    from unet_explain.model.audit import COMPARE_LEGEND, row_kinds, summarise

    summaries = {name: summarise(report) for name, report in reports.items()}
    table = _table("U-Net variants, audited from the built Keras models")
    table.add_column("", style="bold")
    for name in reports:
        table.add_column(name, max_width=34)
    paper = summaries.get("paper", {})
    kinds = {name: row_kinds(report, paper) for name, report in reports.items()}
    style = {"deviation": "bold yellow", "note": "italic", "": ""}
    for aspect in next(iter(summaries.values())):
        table.add_row(aspect, *(Text(summaries[name][aspect], style=style[kinds[name][aspect]]) for name in reports))
    parts: list[Any] = [table]
    for name, note in notes.items():
        if note:
            parts.append(Text(f"{name}: {note}", style="italic"))
    parts.append(Text(COMPARE_LEGEND[0].upper() + COMPARE_LEGEND[1:] + ".", style="dim"))
    return Group(*parts)

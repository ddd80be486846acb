"""The side length through every layer: down to the bottleneck and up to the output."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from unet_explain.core import names
from unet_explain.render.figures import drawing as d

if TYPE_CHECKING:
    from unet_explain.core.spec import UNetSpec


def _side_steps(spec: UNetSpec) -> list[tuple[str, str, tuple[int, ...]]]:
    """``(stage, kind, size)`` after every size-changing step, from the input tile to the output map.

    ``kind`` is ``input``, ``conv``, ``pool``, ``up`` or ``output``.
    """
    steps: list[tuple[str, str, tuple[int, ...]]] = [("input", "input", spec.config.input_size)]
    for stage in spec.stages:
        if stage.path == names.OUTPUT:
            steps.append((stage.name, "output", stage.out_size))
            continue
        if stage.up_size is not None:
            steps.append((stage.name, "up", stage.up_size))
        steps += [(stage.name, "conv", size) for size in stage.conv_sizes]
        if stage.pool_size is not None:
            steps.append((stage.name, "pool", stage.pool_size))
    return steps


_MARKERS = {"input": "s", "conv": "o", "pool": "v", "up": "^", "output": "D"}


def draw(spec: UNetSpec, theme: str) -> Any:
    c = d.colours(theme)
    steps = _side_steps(spec)
    rows = [size[0] for _, _, size in steps]
    cols = [size[1] for _, _, size in steps]
    square = rows == cols
    bottom = spec.stage(names.BOTTLENECK)
    out = spec.totals.output_size
    fig = d.new_figure(theme, 5.4)
    ax = fig.add_axes((0.13, 0.28, 0.84, 0.53))
    xs = list(range(len(steps)))
    series = [(rows, c["keep"], "side" if square else "rows")]
    if not square:
        series.append((cols, c["accent"], "columns"))
    for values, colour, label in series:
        ax.plot(xs, values, color=colour, lw=2.2, label=label, zorder=2)
        for kind, marker in _MARKERS.items():
            picked = [(x, v) for x, v, (_, k, _) in zip(xs, values, steps, strict=True) if k == kind]
            if picked:
                px, pv = zip(*picked, strict=True)
                ax.scatter(px, pv, marker=marker, s=46, color=colour, edgecolor=c["fg"], linewidth=0.6, zorder=3)
    if not square:
        ax.legend(loc="upper center", ncols=2, frameon=False, fontsize=11, handlelength=1.5)
    top_value = max(max(rows), max(cols))
    ax.set_ylim(0, top_value * 1.22)
    ax.set_xlim(-0.8, len(steps) - 0.2)
    ax.set_ylabel("side (px)")
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(axis="x", bottom=False, labelbottom=False)
    # The stages under their steps, with the size each one ends at.
    spans: dict[str, list[int]] = {}
    for x, (name, _, _) in enumerate(steps):
        spans.setdefault(name, []).append(x)
    for k, (name, where) in enumerate(spans.items()):
        mid = (where[0] + where[-1]) / 2
        if k % 2:
            ax.axvspan(where[0] - 0.5, where[-1] + 0.5, color=c["cell"], alpha=0.55, lw=0, zorder=0)
        ax.text(
            mid,
            -0.03,
            name,
            transform=ax.get_xaxis_transform(),
            ha="right",
            va="top",
            fontsize=11 if len(spans) <= 12 else 9.5,
            rotation=40,
            rotation_mode="anchor",
        )
        if name in ("input", names.OUTPUT):
            continue  # both are in the title
        end = spec.stage(name).out_size
        ax.text(
            mid,
            max(end) + top_value * 0.05,
            str(end[0]) if square else f"{end[0]}\n{end[1]}",
            ha="center",
            va="bottom",
            fontsize=11 if len(spans) <= 12 else 8.5,
            color=c["fg"],
            linespacing=1.0,
            fontweight="bold" if name == names.BOTTLENECK else "normal",
        )
    title = f"{d.size(spec.config.input_size)} → {d.size(bottom.out_size)} → {d.size(out)}"
    fig.text(0.02, 0.975, f"Side length, layer by layer: {title}", va="top", fontweight="bold", fontsize=d.FONT_PT)
    if spec.config.padding == "valid":
        (ih, iw), (oh, ow) = spec.config.input_size, out
        lost = f"lost on the way: {d.px((ih - oh, iw - ow))}"
        note = f"{lost} = 2 x the context margin of {d.px(spec.totals.context_margin)}"
    else:
        note = "padding 'same': convolutions keep the size; only pooling and up-convolution change it"
    fig.text(0.02, 0.9, "\n".join(d.wrap(note, 70)), va="top", fontsize=11, color=c["muted"])
    legend = "■ input  ● 3x3 conv  ▼ 2x2 max-pool  ▲ 2x2 up-conv  ◆ output; numbers: each stage's output size"
    if not square:
        legend = legend.replace("numbers:", "numbers (rows over columns):")
    fig.text(0.02, 0.03, "\n".join(d.wrap(legend, 66)), va="bottom", fontsize=11, color=c["muted"])
    return fig


def alt(spec: UNetSpec) -> str:
    steps = _side_steps(spec)
    path = " → ".join(str(size[1]) for _, _, size in steps)
    rows = " → ".join(str(size[0]) for _, _, size in steps)
    text = f"The side length after every layer, a U-shaped line: {path}"
    if rows != path:
        text = f"The rows after every layer: {rows}; the columns: {path}"
    return f"{text}. It is smallest in the bottleneck ({d.size(spec.stage(names.BOTTLENECK).out_size)})."

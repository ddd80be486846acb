"""The generated parts of the site's page "From 2D to 3D" (the 3D U-Net of Cicek et al. 2016).

Every number on that page comes from here, computed from the spec at build
time: the 3D network's sizes and crops per axis, its valid sizes per axis, the
memory of one 3D tile against one 2D tile, and the reconciliation of its
parameter count with the paper's reported figure. Each function takes the two
configs it compares (a volume and an image) and returns markdown.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from unet_explain.config import UNetConfig, axis_names, format_size, preset
from unet_explain.core import arithmetic as ar
from unet_explain.core.budget import human_bytes
from unet_explain.core.param_count import reconcile
from unet_explain.core.sizes import check_axes
from unet_explain.core.spec import BATCHNORM, CONV1X1, CONV3X3, MAXPOOL, UPCONV, UNetSpec, build_spec

if TYPE_CHECKING:
    from unet_explain.docs.site_config import Site


def configs_for(site: UNetConfig) -> tuple[UNetConfig, UNetConfig]:
    """(volume, image): the site's own network on its side, the other paper's network on the other."""
    if site.dims == 3:
        return site, preset("unet")
    return preset("3d-unet"), site


def _n(value: int) -> str:
    return f"{value:,}"


def size_trace(volume: UNetConfig) -> str:
    """Each axis of the volume through every convolution, pooling and up-convolution, one row per axis."""
    spec = build_spec(volume)
    lines = ["| Axis | Input | Sizes after each conv, pool (⇣) and up-conv (⇡) | Output |", "|:---|---:|:---|---:|"]
    for axis, name in enumerate(axis_names(3)):
        parts = []
        for layer in spec.layers:
            side = layer.out_size[axis]
            mark = {CONV3X3: "→", MAXPOOL: "⇣", UPCONV: "⇡"}.get(layer.kind)
            if mark:
                parts.append(f"{mark} {side}")
        lines.append(f"| {name} | {volume.input_size[axis]} | {' '.join(parts)} | {spec.totals.output_size[axis]} |")
    return "\n".join(lines) + "\n"


def crop_rules(volume: UNetConfig) -> str:
    """The crop of every skip connection on every axis, and why it is the same number on each."""
    spec = build_spec(volume)
    lines = ["| Level | Copied map | Up-sampled map | Crop per side (rows, columns, slices) |", "|:---|---:|---:|---:|"]
    for stage in spec.stages:
        if stage.crop is None or stage.skip_size is None or stage.up_size is None:
            continue
        lines.append(
            f"| {stage.name} | {format_size(stage.skip_size)} | {format_size(stage.up_size)} "
            f"| {', '.join(map(str, stage.crop))} |"
        )
    margin = spec.totals.context_margin
    same = all(len(set(s.crop)) == 1 for s in spec.stages if s.crop)
    note = (
        "The crops are equal on all three axes, whatever the sides: a crop depends only on what the convolutions "
        "between the copy and the join removed, the same number of voxels along every axis."
        if same
        else "Each axis is cropped by what the convolutions between the copy and the join removed along it."
    )
    return (
        "\n".join(lines)
        + f"\n\nContext margin per side: {', '.join(map(str, margin))} voxels (rows, columns, slices). {note}\n"
    )


def valid_size_rules(volume: UNetConfig) -> str:
    """The valid-size rule, checked on each axis of the volume, with the smallest valid side."""
    d, padding = volume.depth, volume.padding
    smallest = ar.valid_sides(1, 4096, d, padding)[0]
    checks = check_axes(volume.input_size, depth=d, padding=padding)
    lines = ["| Axis | Side | Valid | Nearest valid below | Nearest valid above |", "|:---|---:|:---|---:|---:|"]
    for c in checks:
        below = "-" if c.below is None else str(c.below)
        above = "-" if c.above is None else str(c.above)
        lines.append(f"| {c.axis} | {c.side} | {'yes' if c.valid else 'no'} | {below} | {above} |")
    if padding == "valid":
        lost = 2 * ar.CONVS_PER_LEVEL * (3 * 2**d - 2)
        step = 2**d
        rule = (
            f"With {d} poolings and unpadded 3x3x3 convolutions, a side is valid when every 2x2x2 pooling meets an "
            f"even size, that is every {step} voxels from {smallest} on (side = {step} x b + "
            f"{2 * ar.CONVS_PER_LEVEL * (step - 1)}, b the side entering the bottom level), and each side loses "
            f"{lost} voxels: output = side - {lost}. The rule holds on each axis on its own, so a volume may be "
            f"anisotropic (572x572x{smallest} is valid) but no axis can go below {smallest}: "
            f"a thinner stack has to be padded or resampled along that axis."
        )
    else:
        rule = (
            f"With padding 'same', a side is valid when it is a multiple of {2**d} (here from {smallest}); "
            "nothing is cropped and the output is as large as the input."
        )
    return "\n".join(lines) + "\n\n" + rule + "\n"


def _tile_row(label: str, spec: UNetSpec) -> str:
    cfg = spec.config
    out = ar.voxels(spec.totals.output_size)
    inp = ar.voxels(cfg.input_size)
    mem = spec.totals.activation_bytes
    return (
        f"| {label} | {format_size(cfg.input_size)} | {format_size(spec.totals.output_size)} | {_n(inp)} | {_n(out)} "
        f"| {out / inp:.1%} | {human_bytes(mem)} | {_n(round(mem / out))} B |"
    )


def memory_comparison(volume: UNetConfig, image: UNetConfig) -> str:
    """One 3D tile against one 2D tile: voxels in, voxels out, activation memory per labelled voxel."""
    v, i = build_spec(volume), build_spec(image)
    lines = [
        "| Network | Input tile | Output tile | Input values | Output values | Labelled share "
        "| Activations (float32, one tile) | Per output value |",
        "|:---|---:|---:|---:|---:|---:|---:|---:|",
        _tile_row("3D U-Net", v),
        _tile_row("2D U-Net", i),
    ]
    return "\n".join(lines) + "\n"


@cache  # the same volume on every 2D site (see configs_for), and a few hundred specs to build for it
def why_tiles_are_small(volume: UNetConfig, budgets: tuple[int, ...] = (4 * 2**30, 8 * 2**30, 12 * 2**30)) -> str:
    """The largest cube of valid side whose one-tile activations fit each budget, and what doubling a side costs."""
    d, padding = volume.depth, volume.padding
    sides = ar.valid_sides(1, 1024, d, padding)
    base = volume.as_dict() | {"input_size": (sides[0],) * 3}
    cube_cost = {n: build_spec(UNetConfig(**(base | {"input_size": (n, n, n)}))).totals.activation_bytes for n in sides}
    lines = ["| Activation budget | Largest cubic tile that fits | Its output | Activations |", "|---:|---:|---:|---:|"]
    for budget in budgets:
        fitting = [n for n in sides if cube_cost[n] <= budget]
        if not fitting:
            lines.append(f"| {human_bytes(budget)} | none | - | - |")
            continue
        n = fitting[-1]
        out = ar.trace_side(n, d, padding).output
        lines.append(f"| {human_bytes(budget)} | {n}x{n}x{n} | {out}x{out}x{out} | {human_bytes(cube_cost[n])} |")
    spec = build_spec(volume)
    first = spec.stages[0]
    grow = (
        f"Every map of a volume grows with the cube of its side, where an image's grows with the square: in the "
        f"{format_size(volume.input_size)} tile, the first level alone (maps of {format_size(first.out_size)} "
        f"voxels and up to {first.channels} channels) holds {human_bytes(first.activation_bytes)} of the tile's "
        f"{human_bytes(spec.totals.activation_bytes)}. And the context margin is lost on every face: "
        f"{', '.join(map(str, spec.totals.context_margin))} voxels per side here, so a small tile labels only "
        f"a small core of its voxels. The 3D tile is therefore small, and a volume is segmented in many such tiles "
        f"with the overlap-tile strategy. (These are the activations of one forward pass, as the table counts them; "
        f"training needs more on top: gradients, the weights and the optimiser's state.)"
    )
    return "\n".join(lines) + "\n\n" + grow + "\n"


def parameter_derivation(volume: UNetConfig) -> str:
    """The parameter count term by term, the reconciliation with the paper's figure, and Keras's BN count."""
    spec = build_spec(volume)
    r = reconcile(spec)
    rows = ["| Layer | Weights + biases | Count |", "|:---|:---|---:|"]
    for t in r.terms:
        if t.kind != BATCHNORM:
            rows.append(f"| {t.layer} | {t.formula} | {_n(t.weights + t.biases)} |")
    ups = [t for t in r.terms if t.kind == UPCONV]
    up_sum = " + ".join(_n(t.biases) for t in ups)
    bn = [t for t in r.terms if t.kind == BATCHNORM]
    head = next(t for t in r.terms if t.kind == CONV1X1)
    steps = [
        f"1. Weights and biases of every convolution, up-convolution and the {ar.kernel_name(1, 3)} head "
        f"({head.layer}): **{_n(r.weights_and_biases)}**.",
        f"2. The up-convolutions' biases, one per output channel: {up_sum} = **{_n(r.upconv_biases)}**.",
        f"3. Without them: {_n(r.weights_and_biases)} - {_n(r.upconv_biases)} = **{_n(r.without_upconv_biases)}**.",
    ]
    if r.paper_reported is not None:
        verdict = "equal to" if r.paper_reported == r.without_upconv_biases else "not equal to"
        steps.append(
            f"4. The paper reports {_n(r.paper_reported)}: {verdict} step 3, so the paper's figure counts "
            "up-convolutions without bias, and no batch normalisation."
        )
    if bn:
        channels = sum(t.batchnorm for t in bn) // 4
        steps.append(
            f"{len(steps) + 1}. Batch normalisation before each of the {len(bn)} ReLUs of the 3x3x3 convolutions "
            f"({_n(channels)} channels in all): a trainable scale and shift per channel, 2 x {_n(channels)} = "
            f"{_n(r.batchnorm_trainable)}, and a moving mean and variance that Keras keeps but does not train, "
            f"another {_n(r.batchnorm_moving)}."
        )
        steps.append(
            f"{len(steps) + 1}. Keras's `count_params()`: {_n(r.weights_and_biases)} + {_n(r.batchnorm_trainable)} "
            f"+ {_n(r.batchnorm_moving)} = **{_n(r.keras_total)}** ({_n(r.trainable)} trainable); the spec counts "
            "the same, and `unet-explain verify` checks it layer by layer against the built model."
        )
        against = (
            f"the paper's {_n(r.paper_reported)}"
            if r.paper_reported is not None
            else f"{_n(r.without_upconv_biases)} (step 3)"
        )
        steps.append(
            f"{len(steps) + 1}. Trainable in Keras: {_n(r.trainable)} = {against} + {_n(r.upconv_biases)} "
            f"up-convolution biases + {_n(r.batchnorm_trainable)} BN scales and shifts; not trainable: "
            f"{_n(r.batchnorm_moving)} (BN's moving means and variances)."
        )
    return "\n".join(rows) + "\n\n" + "\n".join(steps) + "\n"


def _boxed(markdown: str, classes: str) -> str:
    """A wide table in a box the stylesheet sets smaller, so that it fits a desktop column."""
    return f'<div class="{classes}" markdown>\n\n{markdown}\n</div>\n'


def volume(words: list[str], site: Site) -> str:
    """The ``{{ volume PART }}`` placeholder: one part of the page, for the site's network (see :func:`configs_for`)."""
    from unet_explain.docs.site_config import PlaceholderError
    from unet_explain.render.text_formats import to_markdown

    image_or_volume = site.config
    vol, image = configs_for(image_or_volume)
    parts = {
        "table": lambda: _boxed(to_markdown(build_spec(vol)), "unet-stage-table unet-volume-table"),
        "trace": lambda: size_trace(vol),
        "crops": lambda: crop_rules(vol),
        "rules": lambda: valid_size_rules(vol),
        "memory": lambda: _boxed(memory_comparison(vol, image), "unet-stage-table"),
        "small": lambda: why_tiles_are_small(vol),
        "params": lambda: parameter_derivation(vol),
        "network": lambda: f"{vol.describe()}",
    }
    if len(words) != 1 or words[0] not in parts:
        raise PlaceholderError(f"volume takes one PART of {', '.join(parts)}; got {words}")
    return parts[words[0]]()

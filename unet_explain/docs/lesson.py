"""The walkthrough's derivations, written out with the numbers of the site's network.

Each function here is a placeholder kind of :mod:`.placeholders`. It states a rule
in its general form (any depth, either padding), evaluates it, and checks the
result against the spec, which computes the same numbers by tracing sizes
through the layers (:mod:`unet_explain.core.arithmetic`). A rule that
disagreed with the spec would fail the build instead of teaching a wrong
formula.

- ``crop-derivation``: the crop of every skip connection (paper: 4, 16, 40, 88).
- ``size-backwards``: the valid tile sizes, worked backwards from the bottleneck.
- ``stage-params STAGE``: the parameter sum of one stage, layer by layer.
- ``field-reconcile``: the 92 px context margin against the 188-204 px receptive field.
- ``stages PATH``: the stages of one path as a table.
- ``site-config``: which network the site was built for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from unet_explain.config import UNetConfig, format_size
from unet_explain.core import arithmetic as ar
from unet_explain.core.spec import BATCHNORM, CONCAT, CONV1X1, CONV3X3, UPCONV, Stage, UNetSpec, build_spec
from unet_explain.docs.site_config import PlaceholderError, Site, spec_for, stage_alias
from unet_explain.errors import ConfigError
from unet_explain.render.formatting import count


def _shrink(spec: UNetSpec) -> int:
    """Pixels one 3x3 convolution removes from a side: 2 unpadded (the paper), 0 with padding "same"."""
    return ar.KERNEL - 1 if spec.config.padding == "valid" else 0


def _display(tex: str) -> list[str]:
    """A display formula as the page's markdown writes it (MathML at build time: :mod:`.mathml`)."""
    return ["", "$$", tex, "$$", ""]


def _check(claim: str, formula: int, from_spec: int) -> None:
    if formula != from_spec:  # pragma: no cover - would mean the derivation on the page is wrong
        raise PlaceholderError(f"{claim}: the formula gives {formula} but the spec has {from_spec}")


def crop_derivation(words: list[str], site: Site) -> str:
    """The crop recurrence, its closed form, and both checked against the spec's crops."""
    spec = spec_for(words, site)
    depth, c, r = spec.config.depth, ar.CONVS_PER_LEVEL, _shrink(spec)
    rc = r * c
    decoders = [s for s in spec.stages if s.crop is not None]  # decD .. dec1
    lines = [
        f"Write D = {depth} for the depth, c = {c} for the {ar.kernel_name(ar.KERNEL, spec.config.dims)} convolutions "
        f"per level and r = {r} for the pixels one",
        'convolution takes from a side length (1 per border; r = 2 unpadded, r = 0 with padding "same"). Let',
        "e<sub>l</sub> be the side",
        "that level l of the contracting path copies across, d<sub>l</sub> the side that leaves the decoder of",
        "level l, and u<sub>l</sub> = 2 d<sub>l+1</sub> its up-sampled input (d<sub>D+1</sub> is the bottleneck's",
        "output). Going down, e<sub>l+1</sub> = e<sub>l</sub> / 2 − rc; going up, d<sub>l</sub> = u<sub>l</sub> − rc.",
        "The crop per side is crop<sub>l</sub> = (e<sub>l</sub> − u<sub>l</sub>) / 2. Substituting the two steps,",
        "at the bottom, each level up, and in closed form:",
        *_display(rf"\mathrm{{crop}}_D = rc = {rc}"),
        *_display(rf"\mathrm{{crop}}_l = 2\,\mathrm{{crop}}_{{l+1}} + 2rc = 2\,\mathrm{{crop}}_{{l+1}} + {2 * rc}"),
        *_display(
            rf"\mathrm{{crop}}_l = rc\left(3 \cdot 2^{{D-l}} - 2\right) = {rc}\left(3 \cdot 2^{{{depth}-l}} - 2\right)"
        ),
        "The input size does not appear: the crops depend only on the depth and the padding. Level by level, the",
        "crop the package measures from the sizes, and the two formulas:",
        "",
        "| Level | e<sub>l</sub> (copied) | u<sub>l</sub> (up-sampled) | crop from the sizes | "
        "2 crop<sub>l+1</sub> + 2rc | rc (3 · 2<sup>D−l</sup> − 2) |",
        "|:---|---:|---:|---:|---:|---:|",
    ]
    below: int | None = None
    for stage in decoders:
        assert stage.crop is not None and stage.skip_size is not None and stage.up_size is not None
        level = stage.level
        measured = stage.crop[0]
        closed = rc * (3 * 2 ** (depth - level) - 2)
        recurrence = rc if below is None else 2 * below + 2 * rc
        _check(f"crop of {stage.name}", closed, measured)
        _check(f"crop of {stage.name}", recurrence, measured)
        rec_text = f"rc = {recurrence}" if below is None else f"2 · {below} + {2 * rc} = {recurrence}"
        lines.append(
            f"| {stage.name} | {stage.skip_size[0]} | {stage.up_size[0]} | **{measured}** | {rec_text} | "
            f"{rc} · (3 · {2 ** (depth - level)} − 2) = {closed} |"
        )
        below = measured
    return "\n".join(lines) + "\n"


def size_backwards(words: list[str], site: Site) -> str:
    """The valid sizes built from the bottleneck up: a table of b -> the side entering every level."""
    spec = spec_for(words, site)
    depth, c, r = spec.config.depth, ar.CONVS_PER_LEVEL, _shrink(spec)
    rc = r * c
    b0 = spec.stage("bottleneck").in_size[0]
    encoders = [s for s in spec.stages if s.path == "contracting"]
    header = ["b", *(f"enters {s.name}" for s in reversed(encoders)), "output"]
    lines = [
        "Start at the bottom with b, the side that enters the bottleneck, and walk up the contracting path. The",
        f"pooling into level l+1 needed an even side 2 × (side entering level l+1), and before it the {c}",
        f"convolutions of level l took {rc} pixels, so the side entering level l is",
        "",
        *_display(rf"i_l = 2\,i_{{l+1}} + rc = 2\,i_{{l+1}} + {rc}, \qquad i_{{D+1}} = b"),
        "so the tile is",
        *_display(rf"i_1 = 2^D\,b + rc\left(2^D - 1\right) = {2**depth}\,b + {rc * (2**depth - 1)}"),
        "Every whole number b that leaves an output gives a valid tile, and only those do: valid tiles are "
        f"{2**depth} pixels apart. Around this site's tile (b = {b0}):",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---:|" * len(header),
    ]
    for b in range(max(1, b0 - 2), b0 + 3):
        tile = 2**depth * b + rc * (2**depth - 1)
        try:
            other = build_spec(UNetConfig(**(spec.config.as_dict() | {"input_size": (tile, tile)})))
        except ConfigError:
            continue  # too small to leave an output pixel
        sides = [s.in_size[0] for s in reversed([s for s in other.stages if s.path == "contracting"])]
        _check(f"tile for b = {b}", tile, sides[-1])
        _check(f"b for tile {tile}", b, other.stage("bottleneck").in_size[0])
        cells = [str(b), *(str(x) for x in sides[:-1]), f"**{sides[-1]}**", str(other.totals.output_size[0])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _layer_inputs(stage: Stage) -> list[tuple[str, str, int, int, int]]:
    """(layer, kind, C_in, C_out, params) of every layer of ``stage`` that has weights."""
    rows = []
    channels = stage.in_channels
    for layer in stage.layers:
        if layer.kind in (CONV3X3, UPCONV, CONV1X1):
            rows.append((layer.name, layer.kind, channels, layer.channels, layer.params))
            channels = layer.channels
        elif layer.kind == BATCHNORM:
            rows.append((layer.name, layer.kind, layer.channels, layer.channels, layer.params))
        elif layer.kind == CONCAT:
            channels = layer.channels
    return rows


_SIDE = {CONV3X3: ar.KERNEL, UPCONV: ar.SCALE, CONV1X1: 1}


def stage_params(words: list[str], site: Site) -> str:
    """``stage-params enc1``: the weights and biases of every layer of one stage, summed."""
    if not words:
        raise PlaceholderError("stage-params takes a STAGE, then config flags")
    spec = spec_for(words[1:], site)
    name = stage_alias(words[0], spec)
    try:
        stage = spec.stage(name)
    except Exception:
        raise PlaceholderError(f"no stage {name!r}") from None
    lines = [
        "| Layer | Kernel | C<sub>in</sub> → C<sub>out</sub> | weights + biases | parameters |",
        "|:---|:---|---:|:---|---:|",
    ]
    total = 0
    dims = len(spec.config.input_size)
    for layer, kind, c_in, c_out, params in _layer_inputs(stage):
        if kind == BATCHNORM:  # gamma and beta (trained), moving mean and variance (kept): Keras counts all four
            formula = 4 * c_out
            _check(f"parameters of {layer}", formula, params)
            lines.append(f"| `{layer}` | batch norm | {c_in} → {c_out} | 4 · {c_out} | {count(formula)} |")
            total += formula
            continue
        taps = _SIDE[kind] ** dims
        formula = taps * c_in * c_out + c_out
        _check(f"parameters of {layer}", formula, params)
        kernel = " × ".join([str(_SIDE[kind])] * dims)
        lines.append(
            f"| `{layer}` | {kernel} | {c_in} → {c_out} | {taps} · {c_in} · {c_out} + {c_out} | {count(formula)} |"
        )
        total += formula
    _check(f"parameters of {name}", total, stage.params)
    lines.append(f"| **{name}** | | | | **{count(total)}** |")
    return "\n".join(lines) + "\n"


def field_reconcile(words: list[str], site: Site) -> str:
    """Reach before and after each output pixel, by pooling phase: why a 92 px margin holds 188-204 px fields."""
    from unet_explain.core.receptive_field import _main_layer, analyse, propagate

    spec = spec_for(words, site)
    report = analyse(spec)
    margin = spec.totals.context_margin[0]
    if spec.config.padding != "valid":
        return (
            f'With padding "same" the tile loses no pixels (the margin is {margin}): the zeros padded in at the '
            "tile's border stand in for the context, so a pixel's field is cut off by the border, and is "
            f"{report.rows.smallest} to {report.rows.largest} pixels wide depending on how close to the border it "
            "sits. The reconciliation of margin and field belongs to the paper's unpadded network: build the site "
            "with `--padding valid` to see it.\n"
        )
    lo, hi = propagate(spec.stages, spec.config.input_size[0], 0, spec.config.padding)[_main_layer(spec.stages[-1])]
    period = 2**spec.config.depth
    phases: dict[int, tuple[int, int]] = {}
    seen: Counter[int] = Counter()
    for p, (a, b) in enumerate(zip(lo, hi, strict=True)):
        centre = p + margin  # the input pixel under output pixel p
        reach = (centre - a, b - centre)
        phase = p % period
        if phase in phases and phases[phase] != reach:  # pragma: no cover - periodic by construction
            raise PlaceholderError(f"the reach of output pixel {p} differs from its phase's")
        phases[phase] = reach
        seen[phase] += 1
    before = min(r[0] for r in phases.values())
    after = min(r[1] for r in phases.values())
    _check("smallest reach before a pixel", before, margin)
    _check("smallest reach after a pixel", after, margin)
    out = [
        f"The tile loses {margin} pixels of context on each side. Measured exactly, every output pixel sees at",
        f"least {before} pixels before it and at least {after} after it, and some see more: how far the field",
        f"reaches depends on where the pixel falls relative to the {period}-pixel grid of the pooling windows",
        f"(2<sup>D</sup> = {period}). Along the rows of the {format_size(spec.config.input_size)} tile:",
        "",
        "| Output pixel p mod " + str(period) + " | reach before | reach after | field = before + after + 1 |",
        "|---:|---:|---:|---:|",
    ]
    for phase in sorted(phases):
        b, a = phases[phase]
        out.append(f"| {phase} | {b} | {a} | {a + b + 1} |")
    smallest, largest = report.rows.smallest, report.rows.largest
    out += [
        "",
        f"So the context margin is the *smallest reach*, not half the field: {margin} = the reach of a pixel",
        f"whose pooling windows line up with the tile's edge. A field of 2 × {margin} + 1 = {2 * margin + 1}",
        f"pixels would be the least any pixel could need; the exact fields are {smallest} and {largest} pixels,",
        "because the reach before and the reach after are never smallest at the same phase. The tile is still",
        f"exactly big enough: the first output pixel reaches {phases[0][0]} pixels back, to the tile's first",
        f"pixel, and the last one (p = {len(lo) - 1}, phase {(len(lo) - 1) % period}) reaches "
        f"{phases[(len(lo) - 1) % period][1]} pixels forward, to its last. The textbook recursion's single number,",
        f"{report.textbook}, is neither.",
    ]
    return "\n".join(out) + "\n"


def _widths(sizes: list[int]) -> str:
    """``[46, 100]`` -> "either 46 or 100 pixels"; one width, or many, said as such."""
    if len(sizes) == 1:
        return f"{sizes[0]} pixels"
    if len(sizes) == 2:
        return f"either {sizes[0]} or {sizes[1]} pixels"
    return f"one of {len(sizes)} widths from {sizes[0]} to {sizes[-1]} pixels"


def field_widths(words: list[str], site: Site) -> str:
    """How wide the fields are, said from the exact analysis (never assumed to be two widths, or uniform).

    ``field-widths``: the paragraph on the output's widths and the contracting path's uniform fields;
    ``field-widths output``: the output's widths as an answer; ``field-widths STAGE``: one stage's units.
    """
    from unet_explain.core.receptive_field import analyse, textbook_field

    which, rest = (words[0], words[1:]) if words and not words[0].startswith("-") else ("", words)
    spec = spec_for(rest, site)
    report = analyse(spec)
    widths = sorted(set(report.rows.sizes) | set(report.cols.sizes))
    if which == "output":
        if len(widths) <= 2:
            return " or ".join(f"**{w}**" for w in widths) + " pixels"
        return f"one of {len(widths)} widths, from **{widths[0]}** to **{widths[-1]}** pixels"
    if which:
        name = stage_alias(which, spec)
        field = report.stages[name]
        lo, hi = min(field.smallest), max(field.largest)
        if lo == hi:
            return f"every unit of `{name}` sees **{hi}** pixels, wherever it sits"
        return (
            f"the units of `{name}` see **{lo}** to **{hi}** pixels: those near the tile's border see fewer, "
            "because the zero padding stands in for the pixels beyond it"
        )
    down = [s for s in spec.stages if s.path in ("contracting", "bottleneck")]
    uniform = [s for s in down if min(report.stages[s.name].smallest) == max(report.stages[s.name].largest)]
    text = [
        f"The field of an output pixel is {_widths(widths)} wide, depending on its position,",
        f"never the single number of the recursion ({report.textbook}).",
    ]
    if len(uniform) == len(down):
        exact = all(
            textbook_field(list(spec.stages[: k + 1])) == report.stages[s.name].largest[0] for k, s in enumerate(down)
        )
        text.append(
            "Down the contracting path, before any up-convolution, every unit of a stage has the same field"
            + (", and there the recursion is exact." if exact else ".")
        )
    else:
        first = report.stages[down[0].name]
        text.append(
            f"Even down the contracting path the units of a stage differ: the zero padding cuts the field off at "
            f"the tile's border, so the units of `{down[0].name}` see {min(first.smallest)} to "
            f"{max(first.largest)} pixels."
        )
    return " ".join(text) + "\n"


def stages(words: list[str], site: Site) -> str:
    """``stages contracting`` or ``stages expansive``: that path's stages as a table."""
    if not words or words[0] not in ("contracting", "expansive"):
        raise PlaceholderError("stages takes contracting or expansive, then config flags")
    spec = spec_for(words[1:], site)
    path = [s for s in spec.stages if s.path == words[0]]
    if words[0] == "contracting":
        lines = ["| Stage | Enters | After the convolutions | Channels | Pooled to |", "|:---|---:|---:|---:|---:|"]
        for s in path:
            assert s.pool_size is not None
            lines.append(
                f"| `{s.name}` | {format_size(s.in_size)} | {format_size(s.out_size)} | {s.channels} "
                f"| {format_size(s.pool_size)} |"
            )
    else:
        lines = [
            "| Stage | Up-sampled | Copy (from) | Crop per side | Concatenated | Out |",
            "|:---|---:|---:|---:|---:|---:|",
        ]
        for s in path:
            assert s.up_size is not None and s.skip_size is not None and s.crop is not None
            lines.append(
                f"| `{s.name}` | {format_size(s.up_size)} × {s.up_channels} | {format_size(s.skip_size)} "
                f"({s.skip_from}) | {s.crop[0]} | {s.concat_channels} | {format_size(s.out_size)} × {s.channels} |"
            )
    return "\n".join(lines) + "\n"


def site_config(words: list[str], site: Site) -> str:
    """Which network this site describes, and how to build it for another one."""
    config = site.config
    paper = UNetConfig()
    flags = " ".join(site.flags)
    if site.is_paper:
        head = (
            '!!! info "Built for the paper\'s network"\n\n'
            f"    Every number on this site is for the paper's network: {config.describe()}."
        )
        how = (
            "    To read it for your own network, build it with your settings, e.g. "
            "`unet-explain docs build --input-size 508 --in-channels 3`: every table, number and figure "
            "then follows them."
        )
    else:
        head = (
            f'!!! info "Built for your network"\n\n    This site was built for **{config.describe()}** '
            f"(`unet-explain docs build {flags}`). Every table, number and figure follows that network; "
            f"numbers quoted as *the paper's* are the paper's ({paper.describe()})."
        )
        how = "    Build it without flags for the paper's network."
    return head + "\n\n" + how + "\n"



def bottleneck_cost(words: list[str], site: Site) -> str:
    """Whether the bottleneck is the cheapest stage in compute, said from the spec's MACs, up to "weights:"."""
    from unet_explain.render.formatting import si

    spec = spec_for(words, site)
    bottleneck = spec.stage("bottleneck")
    others = [s for s in spec.stages if s.path in ("contracting", "expansive")]
    cheapest = min(others, key=lambda s: s.macs)
    if bottleneck.macs < cheapest.macs:
        return "The bottleneck is cheap in compute (its maps are small) but expensive in\nweights:"
    return (
        f"The bottleneck is not cheap in compute here: its {si(bottleneck.macs)} multiply-accumulates are more than "
        f"the {si(cheapest.macs)} of `{cheapest.name}`, the cheapest level. It is expensive in\nweights too:"
    )


KINDS: dict[str, Callable[[list[str], Site], str]] = {
    "bottleneck-cost": bottleneck_cost,
    "crop-derivation": crop_derivation,
    "size-backwards": size_backwards,
    "stage-params": stage_params,
    "field-reconcile": field_reconcile,
    "stages": stages,
    "site-config": site_config,
    "field-widths": field_widths,
}

"""The placeholders that quote the spec: the table, sizes, crops, a side traced, one value, a size's break."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

from unet_explain.config import UNetConfig, format_size, format_size_arg
from unet_explain.core.arithmetic import FLOAT32_BYTES
from unet_explain.core.spec import UNetSpec
from unet_explain.docs.markup import and_list, stage_table
from unet_explain.docs.site_config import (
    PlaceholderError,
    Site,
    config_from_flags,
    config_parser,
    size_tokens,
    spec_for,
    stage_alias,
    with_site,
)
from unet_explain.render.formatting import count, mebibytes, megabytes, si


def table(words: list[str], site: Site) -> str:
    from unet_explain.render.text_formats import to_markdown

    return stage_table(to_markdown(spec_for(words, site)))


def sizes(words: list[str], site: Site) -> str:
    from unet_explain.core.sizes import valid_size_table

    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    parser.add_argument("--min", type=int, required=True)
    parser.add_argument("--max", type=int, required=True)
    args, rest = parser.parse_known_args(size_tokens(words, site))
    # The same rules as ``unet-explain sizes``: no input size needed, the site's is not inherited.
    from unet_explain.cli.options import config_from_args
    from unet_explain.config import validate_settings

    try:
        flags, unknown = config_parser().parse_known_args(with_site(rest, site, "sizes"))
    except argparse.ArgumentError as err:
        raise PlaceholderError(str(err)) from None
    if unknown:
        raise PlaceholderError(f"unknown words {unknown}")
    if flags.input_size is not None:
        config_from_args(flags)  # a given size is still checked
    settings = UNetConfig().as_dict() | {k: v for k, v in vars(flags).items() if v is not None}
    validate_settings(*(settings[k] for k in ("depth", "in_channels", "num_classes", "base_filters", "padding")))
    found = valid_size_table(args.min, args.max, depth=settings["depth"], padding=settings["padding"])
    lines = [
        "| Input tile | Output map | Context margin per side | Entering the bottleneck |",
        "|---:|---:|---:|---:|",
    ]
    lines += [f"| {r.input} | {r.output} | {r.margin} | {r.bottleneck} |" for r in found.rows]
    return "\n".join(lines) + "\n"


def crops(words: list[str], site: Site) -> str:
    spec = spec_for(words, site)
    lines = [
        "| Level | Copied map (from) | Up-sampled map | Difference | Crop per side |",
        "|:---|---:|---:|---:|---:|",
    ]
    for stage in spec.stages:
        if stage.crop is None or stage.skip_size is None or stage.up_size is None:
            continue
        diff = [s - u for s, u in zip(stage.skip_size, stage.up_size, strict=True)]
        diff_text = str(diff[0]) if diff[0] == diff[1] else f"{diff[0]}x{diff[1]}"
        crop = stage.crop
        crop_text = str(crop[0]) if crop[0] == crop[1] else f"{crop[0]}x{crop[1]}"
        lines.append(
            f"| {stage.name} | {format_size(stage.skip_size)} ({stage.skip_from}) | {format_size(stage.up_size)} "
            f"| {diff_text} | **{crop_text}** |"
        )
    return "\n".join(lines) + "\n"


def trace(words: list[str], site: Site) -> str:
    """One side length through every layer: ``572 → 570 → 568 ⇣ 284 …``."""
    spec = spec_for(words, site)
    parts = [str(spec.config.input_size[0])]
    for layer in spec.layers:
        side = str(layer.out_size[0])
        if layer.kind == "conv3x3":
            parts.append(f"→ {side}")
        elif layer.kind == "maxpool":
            parts.append(f"⇣ {side}")
        elif layer.kind == "upconv":
            parts.append(f"⇡ {side}")
    return "`" + " ".join(parts) + "`"


FORMATTERS: dict[str, Callable[[Any], str]] = {
    "plain": str,
    "count": count,
    "si": si,
    "mb": megabytes,
    "size": lambda v: "x".join(str(x) for x in v),  # every axis: 388x388, or 9x9x7 for a volume
    "side": lambda v: str(v[0]),
    "size-arg": lambda v: format_size_arg(tuple(v)),  # as the CLI takes it: 508, or 508x636
    "list": lambda v: and_list([str(x) for x in v]),
    "he3": lambda v: f"sqrt(2 / (9 · {v})) ≈ {math.sqrt(2 / (9 * v)):.3f}",  # the paper's init for a 3x3 conv
    "he3x3x3": lambda v: f"sqrt(2 / (27 · {v})) ≈ {math.sqrt(2 / (27 * v)):.3f}",  # ... for a 3x3x3 conv
    "twice": lambda v: str(2 * v),
    "channels": lambda v: f"{v} channel" if v == 1 else f"{v} channels",
    "pixels": lambda v: count(math.prod(v)),  # a size's pixel (voxel) count: 388x388 -> 150,544
    "values": lambda v: count(math.prod(v["out_size"]) * v["channels"]),  # a stage's output numbers
    "weights-mb": lambda v: megabytes(v * FLOAT32_BYTES),  # a parameter count as float32 bytes, 10^6
    "weights-mib": lambda v: mebibytes(v * FLOAT32_BYTES),  # ... and in MiB, as Keras's summary counts them
}


def spec_value(spec: UNetSpec, path: str) -> Any:
    """``totals.params``, ``dec1.crop.0`` or ``crops`` (the crops per side, deepest first) from the spec's JSON."""
    data = spec.as_dict()
    stages = {s["name"]: s for s in data["stages"]}
    if path == "crops":
        return [s.crop[0] for s in spec.stages if s.crop is not None]
    node: Any = data
    for part in path.split("."):
        part = stage_alias(part, spec)
        if isinstance(node, list):
            node = node[int(part)]
        elif node is data and part in stages:
            node = stages[part]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise PlaceholderError(f"no {part!r} in {path!r}")
    return node


def value(words: list[str], site: Site) -> str:
    """``totals.params | count`` or ``dec1.crop.0`` from the spec's JSON (stage names as keys)."""
    text = " ".join(words)
    path, _, rest = text.partition("|")
    fmt_words = rest.split()
    fmt = fmt_words[0] if fmt_words else "plain"
    flags = path.split()[1:] + fmt_words[1:]
    node = spec_value(spec_for(flags, site), path.split()[0])
    if fmt not in FORMATTERS:
        raise PlaceholderError(f"unknown format {fmt!r}; use one of {', '.join(FORMATTERS)}")
    return FORMATTERS[fmt](node)


def size_break(words: list[str], site: Site) -> str:
    """``size-break N [flags]``: where a side of N pixels breaks (``enc2_pool receives 279 pixels``), or "valid"."""
    from unet_explain.core.arithmetic import nearest_valid_sides, side_break

    words = size_tokens(words, site, first_is_side=True)
    if not words or not words[0].isdigit():
        raise PlaceholderError("size-break takes a side N, then config flags")
    config = config_from_flags(with_site(words[1:], site))
    side = int(words[0])
    found = side_break(side, config.depth, config.padding)
    if found is None:
        return f"{side} is valid"
    near = [str(n) for n in nearest_valid_sides(side, config.depth, config.padding) if n is not None]
    return f"{side}: `{found.layer}` receives {found.size} pixels ({found.rule}); nearest valid: {and_list(near)}"

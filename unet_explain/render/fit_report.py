"""``unet-explain fit`` as text: the tile that fits, its bytes broken down, and the trade-off per batch size."""

from __future__ import annotations

from typing import TYPE_CHECKING

from unet_explain.core.budget import human_bytes

if TYPE_CHECKING:
    from unet_explain.core.fit import Candidate, FitAnswer
    from unet_explain.core.memory import MemoryUse

NOT_COUNTED = (
    "Not counted: TensorFlow's own runtime (constant), cuDNN/oneDNN workspace, the allocator's rounding "
    "and caching. The view convention of the table's Memory column is a lower bound."
)


def shape(size: tuple[int, ...]) -> str:
    """``(572, 572)`` -> ``572x572``."""
    return "x".join(map(str, size))


def describe(use: MemoryUse) -> str:
    """``training, batch 1, SGD with momentum, float32``."""
    if use.mode == "infer":
        return f"inference, batch {use.batch}, {use.dtype}"
    optimizer = "SGD with momentum" if use.optimizer == "sgd" else "Adam"
    return f"training, batch {use.batch}, {optimizer}, {use.dtype}"


def breakdown(use: MemoryUse) -> list[str]:
    """One line per part of the bytes, then the total."""
    kept = "activations kept for the backward pass" if use.mode == "train" else "activations at the forward peak"
    parts = [("weights", use.weights), ("gradients", use.gradients), ("optimizer state", use.optimizer_state),
             (kept, use.activations), ("largest transient (backward pass)", use.transient)]  # fmt: skip
    if use.mode == "infer":
        parts = [parts[0], parts[3]]
    width = max(len(name) for name, _ in parts)
    lines = [f"  {name:<{width}}  {human_bytes(n):>10}  ({n:,} bytes)" for name, n in parts]
    lines.append(f"  {'total':<{width}}  {human_bytes(use.total):>10}  ({use.total:,} bytes)")
    return lines


def percent(fraction: float) -> str:
    """``46.0%``; below 0.1%, two significant digits (``0.0075%``), so a tile of 4x4x4 output voxels is not 0%."""
    return f"{fraction:.1%}" if fraction >= 0.001 else f"{100 * fraction:.2g}%"


def _row(c: Candidate, image: bool) -> str:
    row = (
        f"{c.batch:>5}  {shape(c.tile):>11}  {shape(c.output_tile):>11}  {percent(c.useful_fraction):>6}  "
        f"{human_bytes(c.use.total):>10}  {c.macs_per_output_pixel:>12,}"
    )
    return row + (f"  {c.tiles_needed:>12,}" if image else "")


def fit_text(answer: FitAnswer) -> str:
    """The whole report."""
    use = answer.chosen.use
    if answer.candidates:
        head = f"Largest valid tile for {describe(use)} in {human_bytes(answer.budget or 0)}: {shape(use.tile)}"
    else:
        verdict = ""
        if answer.budget is not None:
            verdict = f"; {'fits' if answer.fits else 'does NOT fit'} in {human_bytes(answer.budget)}"
        head = f"Tile {shape(use.tile)}, {describe(use)}{verdict}"
    lines = [head, *breakdown(use)]
    c = answer.chosen
    lines.append(
        f"  output tile {shape(c.output_tile)}, useful fraction {percent(c.useful_fraction)}, "
        f"{c.macs_per_output_pixel:,} MACs per output pixel"
        + (f", {c.tiles_needed:,} tiles for {shape(answer.image)}" if answer.image and c.tiles_needed else "")
    )
    if answer.candidates:
        image = answer.image is not None
        lines += ["", "Largest tile per batch size:"]
        header = f"{'batch':>5}  {'tile':>11}  {'output':>11}  {'useful':>6}  {'memory':>10}  {'MACs/out px':>12}"
        if image:
            header += f"  {'tiles ' + shape(answer.image or ()):>12}"
        lines.append(header)
        lines += [_row(cand, image) for cand in answer.candidates]
    lines += ["", NOT_COUNTED]
    return "\n".join(lines) + "\n"

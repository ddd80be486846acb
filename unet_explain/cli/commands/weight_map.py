"""``unet-explain weight-map``: the weight map of the paper's loss (equation 2), reported and drawn."""

from __future__ import annotations

import argparse
from typing import Any

from unet_explain.cli import console
from unet_explain.cli.options import add_command, real_arg
from unet_explain.errors import UNetExplainError, plain

NAMES = ("weight-map",)
"""The command(s) :func:`register` adds."""


def cmd_weight_map(args: argparse.Namespace) -> int:
    import numpy as np

    from unet_explain.loss_weights import load_labels, touching_cells, weight_map

    if args.demo and args.labels is not None:
        raise UNetExplainError("weight-map: --demo and --labels both name the image; give one of them, not both")
    if not args.demo and args.labels is None:
        raise UNetExplainError("weight-map: give --demo (a synthetic image of touching cells) or --labels FILE.npy")
    console.check_picture_output(args.output, "weights.png")
    if args.demo:
        labels = touching_cells()
        source = "a synthetic image of touching cells"
    else:
        labels = load_labels(args.labels)  # its header checked before any data is read
        source = plain(args.labels, 200)
    weights = weight_map(labels, w0=args.w0, sigma=args.sigma)
    border = weights.border_term
    peak = np.unravel_index(int(border.argmax()), border.shape)
    cell = labels > 0
    cells = len(np.unique(labels[cell]))
    print(f"Weight map of {source}: {labels.shape[0]}x{labels.shape[1]} pixels, {cells:,} cell{'s' * (cells != 1)}")
    background = f"{weights.class_term[~cell].min():.3f}" if (~cell).any() else "none (no background pixel)"
    print(f"  class balance w_c: background {background}, cells {weights.class_term[cell].max():.3f}")
    print(
        f"  border term: peak {border.max():.3f} at row {peak[0]}, column {peak[1]} "
        f"(d1 = {weights.d1[peak]:.1f}, d2 = {weights.d2[peak]:.1f}); w0 = {args.w0:g}, sigma = {args.sigma:g}"
    )
    print(
        f"  weight map w: from {weights.total.min():.3f} to {weights.total.max():.3f}, mean {weights.total.mean():.3f}"
    )
    if args.output is not None:
        from unet_explain.render.figures.weight_map import save_weight_map_figure

        written = save_weight_map_figure(labels, weights, args.w0, args.sigma, args.output)
        console.wrote(f"Wrote the weight map picture to {written}", written)
    return 0


def register(sub: Any) -> None:
    p = add_command(sub, "weight-map", cmd_weight_map, "The weight map of the paper's loss (equation 2), drawn.", False)
    p.add_argument("--demo", action="store_true", help="use a synthetic image of touching cells (no download)")
    p.add_argument("--labels", metavar="FILE.npy", help="a 2-D array of cell ids (0 = background) saved with numpy")
    p.add_argument("--w0", type=real_arg, default=10.0, help="weight of the border term, 0 to 1e6 (paper: 10)")
    p.add_argument(
        "--sigma", type=real_arg, default=5.0, help="width of the border term, 0.1 to 10000 pixels (paper: about 5)"
    )
    p.add_argument("-o", "--output", metavar="FILE", help="draw the map to FILE (.png, .svg or .pdf)")

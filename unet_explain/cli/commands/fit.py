"""``unet-explain fit``: which tile and batch fit a memory budget, for training or inference (no TensorFlow)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from unet_explain.cli.options import add_command, config_from_args, image_arg, memory_arg, whole_arg

NAMES = ("fit",)
"""The command(s) :func:`register` adds."""


def cmd_fit(args: argparse.Namespace) -> int:
    from unet_explain.core.fit import fit
    from unet_explain.core.spec import build_spec

    answer = fit(
        build_spec(config_from_args(args)),
        args.memory,
        mode=args.mode,
        batch=args.batch,
        optimizer=args.optimizer,
        dtype=args.dtype,
        tile=args.tile,
        image=args.image,
    )
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(answer.as_dict(), indent=2) + "\n")
    else:
        from unet_explain.render.fit_report import fit_text

        sys.stdout.write(fit_text(answer))
    return 0


def register(sub: Any) -> None:
    p = add_command(
        sub, "fit", cmd_fit, "Which tile and batch fit a memory budget: exact bytes for training or inference."
    )
    p.add_argument("--memory", type=memory_arg, metavar="SIZE", help="the budget, e.g. 11GiB (units as --max-memory)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--train", dest="mode", action="store_const", const="train", help="a training step (default)")
    mode.add_argument("--infer", dest="mode", action="store_const", const="infer", help="a forward pass")
    p.set_defaults(mode="train")
    p.add_argument("--batch", type=whole_arg, default=1, metavar="N", help="tiles per step (default 1, the paper's)")
    p.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd", help="sgd (momentum, the paper's) or adam")
    p.add_argument(
        "--dtype", choices=("float32", "mixed"), default="float32",
        help="float32, or mixed: float16 activations with float32 master weights",
    )  # fmt: skip
    p.add_argument("--tile", type=whole_arg, metavar="S", help="the bytes of this tile (S on every axis), no search")
    p.add_argument("--image", type=image_arg, metavar="HxW", help="an image to cover: tiles needed per candidate")
    p.add_argument("-f", "--format", choices=("text", "json"), default="text", help="output format (default text)")

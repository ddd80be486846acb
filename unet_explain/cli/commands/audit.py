"""``unet-explain audit`` and ``compare``: a Keras U-Net, or the built-in variants, against the paper."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from unet_explain.cli import console
from unet_explain.cli.options import add_command, add_memory_flag, channels_arg, keras_config, size_arg
from unet_explain.errors import ConfigError

NAMES = ("audit", "compare")
"""The command(s) :func:`register` adds."""


def cmd_audit(args: argparse.Namespace) -> int:
    from unet_explain.core.budget import memory_budget
    from unet_explain.model.audit import audit_model, load_model

    if args.input_size is not None and len(args.input_size) == 3:
        raise ConfigError(
            "input_size",
            f"{'x'.join(map(str, args.input_size))} is a volume, but the audit reads 2D U-Nets (Conv2D and its kin); "
            "give a 2D size such as 572",
        )
    from unet_explain.core.arithmetic import MAX_SIDE

    if args.input_size is not None and not all(1 <= side <= MAX_SIDE for side in args.input_size):
        # checked before TensorFlow loads: Keras would refuse a side of 0 only after seconds, in its own words
        raise ConfigError(
            "input_size", f"must be between 1 and {MAX_SIDE} pixels per side; got {'x'.join(map(str, args.input_size))}"
        )
    # load_model checks the spec (file, factory) before TensorFlow is imported; a .keras file's layers are
    # estimated against the budget first.
    with memory_budget(getattr(args, "max_memory", None)):
        model = load_model(args.model, unsafe=args.unsafe)
    report = audit_model(model, input_size=args.input_size, in_channels=args.in_channels)
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(report.as_dict(), indent=2) + "\n")
    else:
        from unet_explain.render.terminal import audit_tables

        console.print_wide(audit_tables(report))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from unet_explain.core.budget import memory_budget

    config = keras_config(args)
    if config.dims == 3:
        raise ConfigError(
            "input_size",
            f"{'x'.join(map(str, config.input_size))} is a volume, but the variants compared are 2D U-Nets; "
            "give a 2D --input-size, or check the 3D network with 'unet-explain verify --preset 3d-unet'",
        )
    from unet_explain.model.variants import VARIANTS, compare_variants

    with memory_budget(args.max_memory):
        reports, notes = compare_variants(args.variants or list(VARIANTS), config)
    if args.format == "json":
        import json

        data = {name: {"note": notes[name], **report.as_dict()} for name, report in reports.items()}
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        from unet_explain.render.terminal import compare_table

        console.print_wide(compare_table(reports, notes))
    return 0


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "audit",
        cmd_audit,
        "Audit a Keras U-Net against the paper: padding, down- and up-sampling, skips, activations, "
        "normalisation, dropout, extra layers, head, initialisation.",
        False,
    )
    p.add_argument(
        "model",
        metavar="MODEL",
        help="a saved model (model.keras, loaded in Keras's safe mode) or a factory: file.py:function or "
        "pkg.mod:function (this RUNS that file's code)",
    )
    from unet_explain.model.safe_mode import UNSAFE_HELP  # one line of text: the audit itself stays unloaded

    p.add_argument("--unsafe", action="store_true", help=UNSAFE_HELP)
    p.add_argument(
        "--input-size",
        type=size_arg,
        metavar="N|HxW",
        help="trace a model whose input size is open (None) at this size (default: 572, or the nearest size it "
        "accepts); a model with a fixed size keeps its own",
    )
    p.add_argument(
        "--in-channels",
        type=channels_arg,
        metavar="C",
        help="input channels for a model that never saw an input (a subclassed model not yet built; default 1)",
    )
    p.add_argument("-f", "--format", choices=("rich", "json"), default="rich", help="output format")

    p = add_command(
        sub, "compare", cmd_compare, "Build the built-in variants and audit them side by side against the paper."
    )
    p.add_argument(
        "variants",
        nargs="*",
        metavar="VARIANT",
        help="paper, caffe-release, tutorial-resize, same-padding (default: all)",
    )
    p.add_argument("-f", "--format", choices=("rich", "json"), default="rich", help="output format")
    add_memory_flag(p)

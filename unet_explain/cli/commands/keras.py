"""``unet-explain verify`` and ``summary``: the commands that build the Keras model (they import TensorFlow)."""

from __future__ import annotations

import argparse
from typing import Any

from unet_explain.cli import console
from unet_explain.cli.options import add_command, add_memory_flag, keras_config

NAMES = ("verify", "summary")
"""The command(s) :func:`register` adds."""


def cmd_verify(args: argparse.Namespace) -> int:
    from unet_explain.core.budget import memory_budget

    config = keras_config(args, models=2, what="building the model and the independent one")
    from unet_explain.model.verify import verify
    from unet_explain.render.terminal import verify_table

    with memory_budget(args.max_memory):
        report = verify(config)
    console.print_wide(verify_table(report))
    if report.reference_total is None:
        print(
            "The independent builder writes only the 2D paper's form; this network was checked against the "
            "package's Keras model (sizes, parameters and count_params())."
        )
    if not report.ok:
        names = [check.name for check in report.mismatches] + [w.split(":")[0] for w in report.wiring]
        where = ", ".join(dict.fromkeys(names)) or "total parameters"
        console.say(f"the spec and the Keras models disagree at: {where}")
        return 1
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    from unet_explain.core.budget import memory_budget

    config = keras_config(args)
    from unet_explain.model.keras_unet import build_model

    with memory_budget(args.max_memory):
        model = build_model(config)
    model.summary(line_length=110)
    return 0


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "verify",
        cmd_verify,
        "Build the Keras model and an independent one; check every layer's shape and parameters against the spec.",
    )
    add_memory_flag(p)
    p = add_command(sub, "summary", cmd_summary, "Print Keras's model.summary() of the built model.")
    add_memory_flag(p)

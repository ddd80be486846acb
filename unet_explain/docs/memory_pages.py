"""The placeholders of the page "What fits on my GPU": nnU-Net's rule beside our count, and the measurement.

``{{ nnunet-compare [flags] }}`` sets our count of a training step beside the
bytes nnU-Net's rule implies (:mod:`unet_explain.core.nnunet`), for the site's
network at a few tiles. ``{{ memory-check }}`` shows the recorded run of
``benchmarks/memory_fit.py`` (:mod:`.memory_record`, written by its
``--record``): predicted against measured, with nnU-Net's rule beside them.
"""

from __future__ import annotations

from unet_explain.config import UNetConfig
from unet_explain.core.budget import human_bytes
from unet_explain.docs.markup import stage_table as compact
from unet_explain.docs.site_config import Site, spec_for

MIB = 2**20


def _tiles(spec_tile: int, smallest: int, fits: list[int]) -> list[int]:
    return sorted({smallest, spec_tile, *fits})


def nnunet_compare(words: list[str], site: Site) -> str:
    """Our count of a training step (batch 1, SGD with momentum, float32) against nnU-Net's rule, per tile."""
    from unet_explain.core.fit import candidate_sides, largest_fitting
    from unet_explain.core.memory import memory_use
    from unet_explain.core.nnunet import nnunet_estimate

    spec = spec_for(words, site)
    axes = len(spec.config.input_size)
    sides = candidate_sides(spec)
    fits = [sides[i] for gib in (8, 24, 80) if (i := largest_fitting(spec, sides, gib * 2**30, 1)) is not None]
    lines = [
        "| Input tile | Our count: training step | nnU-Net's count (values) | Bytes nnU-Net's rule implies "
        "| nnU-Net / ours |",
        "|---:|---:|---:|---:|---:|",
    ]
    under: list[str] = []
    over: list[str] = []
    for side in _tiles(spec.config.input_size[0], sides[0], fits):
        tile = (side,) * axes
        ours = memory_use(spec, tile=tile).total
        theirs = nnunet_estimate(spec, tile)
        shown = "x".join([str(side)] * axes)
        (under if theirs.implied_bytes < ours else over).append(shown)
        lines.append(
            f"| {shown} | {human_bytes(ours)} | {theirs.values:,} | "
            f"{human_bytes(theirs.implied_bytes)} | {theirs.implied_bytes / ours:.2f} |"
        )
    verdicts = [f"underestimates the tile{'s' * (len(under) > 1)} {', '.join(under)}" if under else "",
                f"overestimates the tile{'s' * (len(over) > 1)} {', '.join(over)}" if over else ""]  # fmt: skip
    summary = " and ".join(v for v in verdicts if v)
    return compact("\n".join(lines)) + f"\nFor this network, nnU-Net's rule {summary}.\n"


def check_rows() -> list[dict[str, float | int | str]]:
    """The recorded runs with today's predictions, in MiB; growth is from each network's smallest tile.

    ``views`` is the table's convention (crops and concatenations as free views) for the same tensors: a
    lower bound, which the measurement shows.
    """
    from unet_explain.core.memory import memory_use
    from unet_explain.core.nnunet import nnunet_estimate
    from unet_explain.core.spec import build_spec
    from unet_explain.docs.memory_record import RECORD

    rows: list[dict[str, float | int | str]] = []
    first: dict[str, dict[str, float]] = {}
    for row in RECORD:
        settings = dict(row["config"])
        name = (
            f"depth {settings['depth']}, {settings['base_filters']} filters, "
            f"{settings['in_channels']} input channel{'s' * (settings['in_channels'] != 1)}, "
            f"{settings['num_classes']} classes"
        )
        tile = int(row["tile"])
        spec = build_spec(UNetConfig(input_size=(tile, tile), **settings))
        use = memory_use(spec)
        here = {
            "predicted": (use.gradients + use.activations + use.transient) / MIB,  # weights, momentum: resident
            "measured": int(row["measured_step"]) / MIB,
            "views": use.views_lower_bound / MIB,
            "nnunet": nnunet_estimate(spec).implied_bytes / MIB,
        }
        base = first.setdefault(name, here)
        entry: dict[str, float | int | str] = {"network": name, "tile": tile, "first": int(base is here)}
        entry.update(here)
        entry.update({f"grow_{k}": here[k] - base[k] for k in here})
        rows.append(entry)
    return rows


def memory_check(words: list[str], site: Site) -> str:
    """The recorded benchmark in two narrow tables: predicted against measured, then the view convention and
    nnU-Net's rule against the same measured growth."""
    from unet_explain.docs.memory_record import DEVICE

    rows = check_rows()
    networks = list(dict.fromkeys(str(row["network"]) for row in rows))
    label = {name: chr(ord("A") + k) for k, name in enumerate(networks)}
    lines = [
        f"Measured on {DEVICE}, in MiB; growth is from the smallest tile of each network. "
        + "; ".join(f"network {label[name]}: {name}" for name in networks)
        + ".",
        "",
        "| Network | Tile | Step predicted | Step measured | Growth predicted | Growth measured | Ratio |",
        "|:---|---:|---:|---:|---:|---:|---:|",
    ]
    beside = [
        "| Network | Tile | Growth measured | View convention | nnU-Net's rule | nnU-Net / measured |",
        "|:---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        head = [label[str(row["network"])], str(row["tile"])]
        cells = [*head, f"{float(row['predicted']):.1f}", f"{float(row['measured']):.1f}"]
        if row["first"]:
            lines.append("| " + " | ".join(cells + [""] * 3) + " |")
            continue
        measured = float(row["grow_measured"])
        cells += [f"{float(row['grow_predicted']):.1f}", f"{measured:.1f}"]
        cells.append(f"{float(row['grow_predicted']) / measured:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
        others = [f"{measured:.1f}", f"{float(row['grow_views']):.1f}", f"{float(row['grow_nnunet']):.1f}"]
        others.append(f"{float(row['grow_nnunet']) / measured:.2f}")
        beside.append("| " + " | ".join(head + others) + " |")
    intro, table = lines[0], "\n".join(lines[2:])
    return (
        f"{intro}\n\n{compact(table)}\nThe same measured growth beside the view convention and nnU-Net's rule:\n\n"
        + compact("\n".join(beside))
    )


def memory_table(words: list[str], site: Site) -> str:
    """For the site's tile: the view convention, what Keras allocates besides, and what a step or a pass holds."""
    from unet_explain.core.memory import graph, memory_use

    spec = spec_for(words, site)
    train, infer = memory_use(spec), memory_use(spec, mode="infer")
    copies = sum(n.allocated for n in graph(spec) if n.kind in ("crop", "concat"))
    rows = [
        ("The table's Memory column: outputs of convolutions, poolings, up-convolutions and the scores, "
         "crops and concatenations as free views (a lower bound)", train.views_lower_bound),
        ("What Keras's crops and concatenations allocate besides, in one forward pass", copies),
        ("Activations a training step keeps for the backward pass (with the batch and labels)", train.activations),
        ("Largest transient of the training step, on top of those", train.transient),
        ("Weights, gradients and momentum (float32, SGD)", train.weights + train.gradients + train.optimizer_state),
        ("**A training step, batch 1**", train.total),
        ("The live set at the peak of a forward pass (inference, batch 1)", infer.activations),
        ("**Inference, batch 1, with the weights**", infer.total),
    ]  # fmt: skip
    lines = ["| What | Bytes | |", "|:---|---:|---:|"]
    lines += [f"| {what} | {n:,} | {human_bytes(n)} |" for what, n in rows]
    return compact("\n".join(lines))

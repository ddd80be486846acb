"""Predicted against measured memory of real Keras training steps (``unet-explain fit``'s check against reality).

For two small networks and five tile sizes, each tile runs in a fresh process:
build the paper's Keras U-Net, compile it with SGD (momentum 0.99, the paper's)
and sparse cross-entropy, take one training step (it traces the graph and
creates the optimizer's slots), then measure two more steps and a forward pass
(``predict_on_batch``).

What is measured is the memory a step adds at its peak:

* on the CPU, the process's peak resident set during the step: the peak is
  reset before the step (``/proc/self/clear_refs``) and read after it
  (``VmHWM`` in ``/proc/self/status``), minus the resident set before the step.
  So that the resident set follows the tensors, TensorFlow allocates them with
  the system allocator (``TF_ONEDNN_USE_SYSTEM_ALLOCATOR=true``) and the C
  library maps every large block on its own and returns it when freed
  (``MALLOC_MMAP_THRESHOLD_=65536``); otherwise a pooling allocator keeps
  freed memory resident and the peak reflects its pool, not the step;
* on a GPU, when one is present: ``tf.config.experimental.get_memory_info``'s
  peak for the step, minus what was in use before it.

The prediction is :func:`unet_explain.core.memory.memory_use` (no TensorFlow):
for a step, the gradients, the kept activations and the transient (the weights
and the momentum are resident before the step). TensorFlow runs one op at a
time here (``inter_op_parallelism_threads=1``), as the prediction's replay
does; two intra-op threads do the arithmetic. What must agree is the growth
from the smallest tile to each larger one: within 10% for every tile, or the run
fails. Each tile runs in two fresh processes and the lower peak is kept: the
executor's calling thread may run an op beside the pool's, and a run where two
ops overlapped holds more than the one-op-at-a-time schedule predicted. (From
one tile to the next, the ratio scatters more than from the smallest tile.)

    python benchmarks/memory_fit.py            # a few minutes on two cores
    python benchmarks/memory_fit.py --record   # and write unet_explain/docs/memory_record.py for the site
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TILES = (188, 316, 444, 572, 700)
CONFIGS = (
    {"depth": 2, "base_filters": 16, "in_channels": 1, "num_classes": 2},
    {"depth": 3, "base_filters": 16, "in_channels": 3, "num_classes": 4},
)
TOLERANCE = 0.10
#: Fresh processes per tile; the lowest peak is kept (see the module's docstring).
RUNS = 2
MIB = 2**20


def _status(key: str) -> int:
    """A ``/proc/self/status`` figure in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)  # pragma: no cover


def child(settings: dict[str, int], tile: int) -> None:
    """Run in a fresh process: a warm-up step, two measured steps and a forward pass; print the peaks as JSON."""
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_inter_op_parallelism_threads(1)  # before the runtime starts

    from unet_explain.config import UNetConfig
    from unet_explain.model.keras_unet import build_model, load_keras

    keras = load_keras()
    gpu = bool(tf.config.list_physical_devices("GPU"))
    config = UNetConfig(input_size=(tile, tile), **settings)  # type: ignore[arg-type]
    model = build_model(config, seed=0)
    sgd = keras.optimizers.SGD(0.01, momentum=0.99)  # the paper's momentum
    model.compile(optimizer=sgd, loss=keras.losses.SparseCategoricalCrossentropy())
    rng = np.random.default_rng(0)
    x = rng.random((1, tile, tile, config.in_channels), dtype=np.float32)
    y = rng.integers(0, config.num_classes, (1, *config.output_size)).astype("int32")
    model.train_on_batch(x, y)  # traces the step and creates the momentum slots
    model.predict_on_batch(x)  # traces the forward pass

    def added(run: Any) -> int:
        """Bytes ``run`` adds at its peak."""
        if gpu:
            before = tf.config.experimental.get_memory_info("GPU:0")["current"]
            tf.config.experimental.reset_memory_stats("GPU:0")
            run()
            return int(tf.config.experimental.get_memory_info("GPU:0")["peak"]) - int(before)
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # reset the peak resident set
        before = _status("VmRSS")
        run()
        return _status("VmHWM") - before

    train = max(added(lambda: model.train_on_batch(x, y)) for _ in range(2))
    infer = added(lambda: model.predict_on_batch(x))
    print(json.dumps({"device": "GPU:0" if gpu else "CPU", "train": train, "infer": infer}))


def measure(settings: dict[str, int], tile: int) -> dict[str, int | str]:
    """The lowest peaks of :data:`RUNS` fresh processes."""
    runs = [_measure_once(settings, tile) for _ in range(RUNS)]
    return runs[0] | {key: min(int(r[key]) for r in runs) for key in ("train", "infer")}


def _measure_once(settings: dict[str, int], tile: int) -> dict[str, int | str]:
    argv = [sys.executable, __file__, "--child", json.dumps(settings), str(tile)]
    env = os.environ | {
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONPATH": str(ROOT),
        "TF_ONEDNN_USE_SYSTEM_ALLOCATOR": "true",
        "MALLOC_MMAP_THRESHOLD_": "65536",
    }
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        raise SystemExit(f"tile {tile} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


RECORD = ROOT / "unet_explain" / "docs" / "memory_record.py"


def main(argv: list[str]) -> int:
    import argparse

    from unet_explain.config import UNetConfig
    from unet_explain.core.memory import memory_use
    from unet_explain.core.spec import build_spec

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--record", action="store_true", help=f"also write the figures to {RECORD.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    failures = 0
    record: list[dict[str, Any]] = []
    for settings in CONFIGS:
        spec = build_spec(UNetConfig(input_size=(TILES[0], TILES[0]), **settings))  # type: ignore[arg-type]
        c = spec.config
        print(f"\ndepth {c.depth}, {c.base_filters} base filters, {c.in_channels} input channel(s), "
              f"{c.num_classes} classes; SGD with momentum, batch 1, float32")  # fmt: skip
        print(
            f"{'tile':>5} | {'step: predicted':>15} {'measured':>9} | {'growth from ' + str(TILES[0]) + ': pred.':>23}"
            f" {'meas.':>7} {'ratio':>6} | {'from the tile above':>19} | {'inference: pred.':>17} {'meas.':>7}"
        )
        first = previous = None
        device = ""
        for tile in TILES:
            use = memory_use(spec, tile=(tile, tile))
            step = use.gradients + use.activations + use.transient  # weights and momentum are resident before
            infer = memory_use(spec, tile=(tile, tile), mode="infer").activations
            got = measure(settings, tile)
            device = str(got["device"])
            measured = int(got["train"])
            record.append(
                {"config": settings, "tile": tile, "predicted_step": step, "measured_step": measured,
                 "predicted_infer": infer, "measured_infer": got["infer"]}
            )  # fmt: skip
            row = f"{tile:>5} | {step / MIB:15.1f} {measured / MIB:9.1f} | "
            if first is None or previous is None:
                first = (step, measured)
                row += f"{'':>23} {'':>7} {'':>6} | {'':>19} | "
            else:
                grow_p, grow_m = step - first[0], measured - first[1]
                r = grow_p / grow_m if grow_m else float("inf")
                failures += abs(r - 1) > TOLERANCE
                above = measured - previous[1]
                step_ratio = (step - previous[0]) / above if above else float("inf")
                row += f"{grow_p / MIB:23.1f} {grow_m / MIB:7.1f} {r:6.2f} | {step_ratio:19.2f} | "
            row += f"{infer / MIB:17.1f} {int(got['infer']) / MIB:7.1f}"
            print(row, flush=True)
            previous = (step, measured)
        print(f"MiB, measured on {device}; ratio = predicted / measured growth")
    verdict = "within" if not failures else f"NOT within ({failures} tile(s) outside)"
    print(f"\ngrowth from the smallest tile {verdict} {TOLERANCE:.0%} of the measurement for every tile")
    if args.record:
        from unet_explain.render.output import atomic_write

        header = (
            '"""The recorded run of benchmarks/memory_fit.py (its --record writes it; do not edit)."""\n\n'
            "from __future__ import annotations\n\nfrom typing import Any\n\n"
        )
        body = f"DEVICE = {json.dumps(device)}\n\nRECORD: list[dict[str, Any]] = {json.dumps(record, indent=4)}\n"
        atomic_write(RECORD, (header + body).encode())
        print(f"recorded in {RECORD.relative_to(ROOT)}")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(json.loads(sys.argv[2]), int(sys.argv[3]))
    else:
        sys.exit(main(sys.argv[1:]))

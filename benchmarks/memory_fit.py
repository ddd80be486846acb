"""Predicted against measured memory of real Keras training steps (``unet-explain fit``'s check against reality).

For two small networks and five tile sizes, each tile runs in a fresh process:
build the paper's Keras U-Net, compile it with SGD (momentum 0.99, the paper's)
and sparse cross-entropy, take one training step (which traces the graph and
creates the optimizer's slots), then measure a second step, and a forward pass
(``predict_on_batch``).

What is measured:

* on a GPU, when one is present: ``tf.config.experimental.get_memory_info``'s
  peak for the GPU;
* on the CPU: the same call for ``CPU:0``, which TensorFlow tracks once its
  CPU allocator is the BFC allocator (``TF_CPU_ALLOCATOR_USE_BFC=true``): the
  peak bytes of tensors in use, without the runtime itself; and the process's
  peak resident set (``ru_maxrss``), which also holds the runtime, the
  allocator's pool and oneDNN's scratch memory.

The prediction is :func:`unet_explain.core.memory.memory_use` (no TensorFlow).
The runtime's own memory does not grow with the tile, so what must agree is the
growth from one tile to the next: within 10% for every step, or the run fails.
TensorFlow runs one op at a time here (``inter_op_parallelism_threads=1``), as
the prediction's replay does; two intra-op threads do the arithmetic.

    python benchmarks/memory_fit.py          # about three minutes on two cores
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TILES = (188, 316, 444, 572, 700)
CONFIGS = (
    {"depth": 2, "base_filters": 16, "in_channels": 1, "num_classes": 2},
    {"depth": 3, "base_filters": 8, "in_channels": 3, "num_classes": 4},
)
TOLERANCE = 0.10
MIB = 2**20


def child(settings: dict[str, int], tile: int) -> None:
    """Run in a fresh process: two training steps and a forward pass; print the peaks as JSON."""
    os.environ.setdefault("TF_CPU_ALLOCATOR_USE_BFC", "true")
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_inter_op_parallelism_threads(1)  # before the runtime starts

    from unet_explain.config import UNetConfig
    from unet_explain.model.keras_unet import build_model, load_keras

    keras = load_keras()
    gpu = bool(tf.config.list_physical_devices("GPU"))
    device = "GPU:0" if gpu else "CPU:0"
    config = UNetConfig(input_size=tile, **settings)
    model = build_model(config, seed=0)
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, momentum=0.99), loss=keras.losses.SparseCategoricalCrossentropy()
    )
    rng = np.random.default_rng(0)
    x = rng.random((1, tile, tile, config.in_channels), dtype=np.float32)
    y = rng.integers(0, config.num_classes, (1, *config.output_size)).astype("int32")
    model.train_on_batch(x, y)  # traces the step and creates the momentum slots

    def peak_of(run: object) -> tuple[int, int]:
        before = tf.config.experimental.get_memory_info(device)["current"]
        tf.config.experimental.reset_memory_stats(device)
        run()  # type: ignore[operator]
        return before, tf.config.experimental.get_memory_info(device)["peak"]

    model.predict_on_batch(x)  # trace the forward pass too
    held, train_peak = peak_of(lambda: model.train_on_batch(x, y))
    infer_held, infer_peak = peak_of(lambda: model.predict_on_batch(x))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(json.dumps({"device": device, "train_peak": train_peak, "held": held, "infer_extra": infer_peak - infer_held,
                      "rss": rss}))  # fmt: skip


def measure(settings: dict[str, int], tile: int) -> dict[str, int | str]:
    argv = [sys.executable, __file__, "--child", json.dumps(settings), str(tile)]
    env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        raise SystemExit(f"tile {tile} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def ratio(predicted: int, measured: int) -> float:
    return predicted / measured if measured else float("nan")


def main() -> int:
    from unet_explain.config import UNetConfig
    from unet_explain.core.memory import memory_use
    from unet_explain.core.spec import build_spec

    failures = 0
    for settings in CONFIGS:
        spec = build_spec(UNetConfig(input_size=TILES[0], **settings))
        c = spec.config
        print(f"\ndepth {c.depth}, {c.base_filters} base filters, {c.in_channels} input channel(s), "
              f"{c.num_classes} classes; SGD with momentum, batch 1, float32")  # fmt: skip
        print(
            f"{'tile':>5} | {'predicted':>9} {'measured':>9} | {'growth: predicted':>17} {'measured':>9} {'ratio':>6}"
            f" | {'RSS growth':>10} {'ratio':>6} | {'infer: pred.':>12} {'meas.':>7}"
        )
        previous = None
        for tile in TILES:
            use = memory_use(spec, tile=(tile, tile))
            infer = memory_use(spec, tile=(tile, tile), mode="infer")
            got = measure(settings, tile)
            row = f"{tile:>5} | {use.total / MIB:9.1f} {int(got['train_peak']) / MIB:9.1f} | "
            if previous is None:
                row += f"{'':>17} {'':>9} {'':>6} | {'':>10} {'':>6} | "
            else:
                grow_p = use.total - previous[0]
                grow_m = int(got["train_peak"]) - previous[1]
                grow_rss = int(got["rss"]) - previous[2]
                r = ratio(grow_p, grow_m)
                failures += abs(r - 1) > TOLERANCE
                row += f"{grow_p / MIB:17.1f} {grow_m / MIB:9.1f} {r:6.2f} | {grow_rss / MIB:10.1f} "
                row += f"{ratio(grow_p, grow_rss):6.2f} | "
            # Inference: the forward pass's live set above the weights, predicted and measured.
            row += f"{infer.activations / MIB:12.1f} {int(got['infer_extra']) / MIB:7.1f}"
            print(row, flush=True)
            previous = (use.total, int(got["train_peak"]), int(got["rss"]))
        print(f"measured on {got['device']}; MiB; ratio = predicted / measured growth from the tile above")
    verdict = "within" if not failures else f"NOT within ({failures} step(s) outside)"
    print(f"\ngrowth between tiles {verdict} {TOLERANCE:.0%} of the measurement")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(json.loads(sys.argv[2]), int(sys.argv[3]))
    else:
        sys.exit(main())

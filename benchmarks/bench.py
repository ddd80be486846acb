"""Speed and memory of unet-explain against the Keras path, measured in the same run.

Each case runs as a fresh process (what a user pays: interpreter start,
imports, work), several times after one warm-up run (which also writes the
bytecode caches, as an installed package has them); we report the median CPU
time (user + system, of the process and the programs it ran, e.g. Graphviz),
the median wall time and the peak resident memory of the child (``wait4``'s
``ru_usage``), then the ratios. The ratios are of CPU time: on a shared machine
it barely moves with the load, where wall time does.

    python benchmarks/bench.py            # every case
    python benchmarks/bench.py table      # one group
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


@dataclass
class Result:
    label: str
    cpu: float
    """Median CPU seconds (user + system, children included)."""
    seconds: float
    """Median wall seconds."""
    peak_mib: float


def _env() -> dict[str, str]:
    env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its bytecode compiled
    return env


def measure(
    label: str, argv: list[str], repeat: int, cwd: Path | None = None, expect: int = 0, warm: bool = True
) -> Result:
    """Median CPU and wall time and max peak RSS of ``argv`` over ``repeat`` fresh runs (which must exit ``expect``)."""
    cpus, times, peaks = [], [], []
    for run in range(repeat + warm):
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd, env=_env())
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != expect:
            raise SystemExit(f"{label} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
        if warm and run == 0:
            continue
        cpus.append(usage.ru_utime + usage.ru_stime)
        times.append(wall)
        peaks.append(usage.ru_maxrss / 1024)  # KiB on Linux
    return Result(label, statistics.median(cpus), statistics.median(times), max(peaks))


def line(result: Result, note: str = "") -> None:
    print(
        f"  {result.label:<44} {result.cpu:8.3f} s cpu {result.seconds:8.3f} s wall {result.peak_mib:8.1f} MiB"
        + (f"  {note}" if note else "")
    )


def report(ours: Result, theirs: Result) -> None:
    line(ours)
    line(theirs)
    print(
        f"  ratio: {theirs.cpu / ours.cpu:.1f}x less CPU time ({theirs.seconds / ours.seconds:.1f}x wall), "
        f"{theirs.peak_mib / ours.peak_mib:.1f}x less peak memory "
        f"({ours.peak_mib:.1f} MiB against {theirs.peak_mib:.1f} MiB)"
    )


KERAS_SUMMARY = [PY, "-c", "from unet_explain import build_model; build_model().summary()"]
_anchor: dict[int, Result] = {}


def keras_anchor(repeat: int) -> Result:
    """Building the paper's network in Keras and printing its summary: measured once per run, shared by the groups."""
    if repeat not in _anchor:
        _anchor[repeat] = measure("Keras build + model.summary()", KERAS_SUMMARY, repeat)
    return _anchor[repeat]


def bench_table(repeat: int) -> None:
    print("table: `unet-explain table` against building the network in Keras and printing model.summary()")
    ours = measure("unet-explain table", [PY, "-m", "unet_explain", "table"], repeat)
    report(ours, keras_anchor(repeat))


def bench_volume(repeat: int) -> None:
    """The 3D U-Net's table stays arithmetic: about the 2D table's time, far below building its Keras model."""
    print("volume: `unet-explain table --preset 3d-unet` against the 2D table and the 3D Keras build + summary()")
    table2d = measure("unet-explain table", [PY, "-m", "unet_explain", "table"], repeat)
    argv = [PY, "-m", "unet_explain", "table", "--preset", "3d-unet"]
    ours = measure("unet-explain table --preset 3d-unet", argv, repeat)
    keras = measure(
        "3D Keras build + model.summary()",
        [PY, "-c", "from unet_explain import build_model\nfrom unet_explain.config import preset\n"
         "build_model(preset('3d-unet')).summary()"],
        repeat,
    )  # fmt: skip
    report(ours, keras)
    share = ours.cpu / table2d.cpu
    print(f"  ratio: the 3D table takes {share:.2f}x the 2D table's CPU time ({table2d.cpu:.3f} s)")


def bench_fit(repeat: int) -> None:
    """`fit` answers in about the table's time: both are arithmetic on the spec, without TensorFlow."""
    print("fit: `unet-explain fit --memory 11GiB --image 4096x4096` (a search over batch sizes) against `table`")
    table = measure("unet-explain table", [PY, "-m", "unet_explain", "table"], repeat)
    argv = [PY, "-m", "unet_explain", "fit", "--memory", "11GiB", "--image", "4096x4096"]
    fit = measure("unet-explain fit --memory 11GiB --image 4096x4096", argv, repeat)
    for result in (fit, table):
        line(result)
    print(f"  ratio: fit takes {fit.cpu / table.cpu:.2f}x the table's CPU time")


def bench_diagram(repeat: int) -> None:
    print("diagram: `unet-explain diagram` (the U, PNG) against keras plot_model(show_shapes=True) of the same network")
    with tempfile.TemporaryDirectory() as tmp:
        ours = measure(
            "unet-explain diagram -o unet.png", [PY, "-m", "unet_explain", "diagram", "-o", "u.png"], repeat, Path(tmp)
        )
        keras = measure(
            "Keras build + plot_model(show_shapes=True)",
            [
                PY,
                "-c",
                "import keras; from unet_explain import build_model; "
                "keras.utils.plot_model(build_model(), to_file='k.png', show_shapes=True)",
            ],
            repeat,
            Path(tmp),
        )
        report(ours, keras)
        print(f"  sizes: ours {png_size(Path(tmp) / 'u.png')} px, Keras {png_size(Path(tmp) / 'k.png')} px")


def png_size(path: Path) -> str:
    data = path.read_bytes()[16:24]
    return f"{int.from_bytes(data[:4], 'big')}x{int.from_bytes(data[4:], 'big')}"


def bench_docs(repeat: int) -> None:
    print("docs: `unet-explain docs build`, first build (empty cache) against a rebuild and against Keras's build")
    cache = ROOT / ".cache" / "docs"
    firsts, rebuilds = [], []
    with tempfile.TemporaryDirectory() as tmp:
        argv = [PY, "-m", "unet_explain", "docs", "build", "-d", str(Path(tmp) / "site")]
        for _ in range(max(1, repeat // 2)):
            shutil.rmtree(cache, ignore_errors=True)
            firsts.append(measure("first build", argv, 1, ROOT, warm=False))
            rebuilds.append(measure("rebuild", argv, 1, ROOT, warm=False))
    first = Result(
        "docs build, empty cache",
        statistics.median(r.cpu for r in firsts),
        statistics.median(r.seconds for r in firsts),
        max(r.peak_mib for r in firsts),
    )
    again = Result(
        "docs build, no change",
        statistics.median(r.cpu for r in rebuilds),
        statistics.median(r.seconds for r in rebuilds),
        max(r.peak_mib for r in rebuilds),
    )
    keras = keras_anchor(repeat)
    line(first)
    line(again)
    line(keras)
    print(f"  ratio: the rebuild takes {first.cpu / again.cpu:.1f}x less CPU time than the first build")
    print(
        f"  ratio: the first build takes {first.cpu / keras.cpu:.2f}x the CPU time of a Keras build + summary() "
        f"({first.seconds / keras.seconds:.2f}x wall)"
    )


def bench_costs(repeat: int) -> None:
    """Issue 11's cost cases: each must stay bounded on valid input (targets: 30 s and 1 GiB, 5 s, under a second)."""
    print("costs: valid but large inputs, each against its target")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cells = many_cells(folder / "cells.npy", side=2000, count=10_000)
        runs = max(1, repeat // 2)
        weight = measure(
            "weight-map --labels (2000x2000, 10,000 cells)",
            [PY, "-m", "unet_explain", "weight-map", "--labels", "cells.npy"],
            runs,
            folder,
        )
        direct = cells * 2000 * 2000 * 8 / 2**30
        line(weight, "(target: 30 s, 1024 MiB)")
        print(f"  {'':<44} the direct method (one distance image per cell) would hold {direct:,.0f} GiB")
        tile = measure(
            "tile --image 100000x100000 --tile 188 -o t.png",
            [PY, "-m", "unet_explain", "tile", "--image", "100000x100000", "--tile", "188", "-o", "t.png"],
            runs,
            folder,
        )
        line(tile, "(target: 5 s; 625,000,000 tiles)")
        figure = measure(
            "figure tiles --depth 1 --input-size 20000",
            [PY, "-m", "unet_explain", "figure", "tiles", "--depth", "1", "--input-size", "20000", "-o", "f.png"],
            runs,
            folder,
        )
        line(figure, "(a full-size image of the two tiles would hold 5.96 GiB per float64 copy)")
        for command in ("summary", "verify", "compare"):
            refused = measure(
                f"{command} --base-filters 4096 (refused)",
                [PY, "-m", "unet_explain", command, "--base-filters", "4096"],
                runs,
                folder,
                expect=2,
            )
            line(refused, "(refused from the spec before TensorFlow is imported)")
        for side in ("99999", "1000000000"):  # the former timed test in test_sizes.py (target: under a second)
            argv = [PY, "-m", "unet_explain", "table", "--input-size", side]
            huge = measure(f"table --input-size {side} (refused)", argv, runs, folder, expect=2)
            line(huge, "(target: under a second)")


def many_cells(path: Path, side: int, count: int) -> int:
    """A label image of ``count`` small square cells at random places; returns the number of distinct cells."""
    import numpy as np

    rng = np.random.default_rng(0)
    labels = np.zeros((side, side), dtype=np.int32)
    for k, (y, x) in enumerate(rng.integers(0, side - 8, size=(count, 2)), start=1):
        labels[y : y + 8, x : x + 8] = k
    np.save(path, labels)
    return len(np.unique(labels)) - 1


GROUPS: dict[str, Callable[[int], None]] = {
    "table": bench_table,
    "fit": bench_fit,
    "volume": bench_volume,
    "diagram": bench_diagram,
    "docs": bench_docs,
    "costs": bench_costs,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("groups", nargs="*", metavar="GROUP", help=f"groups to run: {', '.join(GROUPS)} (default all)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per case (default 5)")
    args = parser.parse_args()
    unknown = set(args.groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown group(s) {', '.join(sorted(unknown))}; known: {', '.join(GROUPS)}")
    print(
        f"Python {sys.version.split()[0]} on {os.cpu_count()} cores; median of {args.repeat} fresh processes "
        "after a warm-up run\n"
    )
    for name in args.groups or list(GROUPS):
        GROUPS[name](args.repeat)
        print()


if __name__ == "__main__":
    main()

"""Bounded on hostile files, and the Python API's own error type (issue 20).

Every hostile file is made in the test's scratch folder (sparse where it is
huge, so it costs no disk) and never read from the system. A refusal is one
line, with the exit status for bad input, within a bound on the peak resident
memory of the process (measured in a child with ``RUSAGE_CHILDREN``), and
leaves the scratch folder as it was.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from cli_run import run
from reliability_scratch import ROOT, changed, one_line, run_measured, snapshot

import unet_explain as ue
from unet_explain.core.budget import parse_bytes
from unet_explain.errors import UNetExplainError
from unet_explain.loss_weights import load_labels, touching_cells
from unet_explain.model.audit import AuditError, parse_target
from unet_explain.model.audit.loading import MAX_SOURCE_BYTES, check_archive
from unet_explain.render.diagram import diagram

#: A refusal reads a header, not the file: far below the hundreds of MiB a loaded file would take.
REFUSAL_PEAK_MIB = 200


def sparse_npy(path: Path, shape: tuple[int, ...], dtype: str) -> None:
    """A valid .npy header for ``shape`` and ``dtype``, followed by a sparse hole of the full data size."""
    with path.open("wb") as handle:
        header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(handle, header)
        handle.truncate(handle.tell() + int(np.prod(shape)) * np.dtype(dtype).itemsize)


LOAD = (
    "import sys\n"
    "from unet_explain.loss_weights import load_labels\n"
    "from unet_explain.errors import UNetExplainError\n"
    "try:\n"
    "    load_labels(sys.argv[1])\n"
    "except UNetExplainError as err:\n"
    "    print(err, file=sys.stderr)\n"
    "    sys.exit(err.exit_code)\n"
)


def _measure_load(folder: Path, name: str) -> tuple[int, str, float]:
    measure = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stderr.write(done.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
        "sys.exit(done.returncode)\n"
    )
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", measure, sys.executable, "-c", LOAD, name]
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stderr, float(done.stdout)


@pytest.mark.parametrize(
    ("shape", "dtype", "why"),
    [
        ((4096, 4096), "V300", "must hold whole numbers"),  # 5 GB: 9.9 GB peak and 21 s before
        ((4096, 4096), "<U64", "must hold whole numbers"),  # 4.3 GB: 8.4 GB peak before
        ((40000, 40000), "<i8", "above the limit"),  # 12.8 GB of valid integers
        ((2, 3, 4), "<i4", "2-D image"),
    ],
)
def test_a_hostile_label_file_is_refused_from_its_header(tmp_path, shape, dtype, why):
    sparse_npy(tmp_path / "labels.npy", shape, dtype)
    before = snapshot(tmp_path)
    code, stderr, peak = _measure_load(tmp_path, "labels.npy")
    assert code == 2
    assert why in one_line(stderr)
    assert peak < REFUSAL_PEAK_MIB, peak
    assert changed(before, snapshot(tmp_path)) == set()


def test_a_label_file_cut_short_is_refused(tmp_path):
    np.save(tmp_path / "cut.npy", touching_cells(64))
    data = (tmp_path / "cut.npy").read_bytes()
    (tmp_path / "cut.npy").write_bytes(data[:-100])
    with pytest.raises(UNetExplainError, match="cut short"):
        load_labels(tmp_path / "cut.npy")


@pytest.mark.parametrize("content", [b"PK\x03\x04" + b"\0" * 100, b"PK\x05\x06garbage"])
def test_a_label_file_with_a_zip_header_is_one_line(tmp_path, content):
    (tmp_path / "labels.npy").write_bytes(content)
    with pytest.raises(UNetExplainError, match=r"zip archive: it holds several arrays \(\.npz\)"):
        load_labels(tmp_path / "labels.npy")


def test_a_good_label_file_loads(tmp_path):
    cells = touching_cells(64, seed=3)
    np.save(tmp_path / "cells.npy", cells)
    np.save(tmp_path / "fortran.npy", np.asfortranarray(cells))
    assert np.array_equal(load_labels(tmp_path / "cells.npy"), cells)
    assert np.array_equal(load_labels(tmp_path / "fortran.npy"), cells)


def keras_config(filters: int, channels: int = 1) -> dict[str, object]:
    """A functional model's config (as Keras 3 saves it) with one Conv2D of ``filters`` filters."""
    conv = {
        "module": "keras.layers",
        "class_name": "Conv2D",
        "config": {"name": "huge", "filters": filters, "kernel_size": [3, 3], "groups": 1},
        "build_config": {"input_shape": [None, 64, 64, channels]},
    }
    layers = [{"class_name": "InputLayer", "config": {"batch_shape": [None, 64, 64, channels]}}, conv]
    return {"module": "keras.src.models.functional", "class_name": "Functional", "config": {"layers": layers}}


def write_keras(path: Path, config: object, extra: dict[str, bytes] | None = None) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3"}))
        archive.writestr("config.json", json.dumps(config))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)


def test_a_keras_file_asking_for_a_40_million_filter_conv_is_refused_before_keras(tmp_path):
    # The report's case: 33 KB on disk, 5.1 GB peak and 9.8 s before (Keras built the layer, then failed).
    write_keras(tmp_path / "big.keras", keras_config(40_000_000))
    before = snapshot(tmp_path)
    measured = run_measured("audit", "big.keras", cwd=tmp_path)
    assert measured.code == 2
    line = one_line(measured.stderr)
    assert "400,000,000" in line and "above the memory budget" in line and "'huge'" in line
    assert measured.peak_mib < REFUSAL_PEAK_MIB, measured.peak_mib
    assert changed(before, snapshot(tmp_path)) == set()


def test_the_config_estimate_counts_what_keras_would_allocate(tmp_path):
    write_keras(tmp_path / "small.keras", keras_config(64, channels=3))
    assert check_archive("small.keras", tmp_path / "small.keras") == 64 * 9 * 3 + 64


@pytest.mark.parametrize(
    ("config", "extra", "why"),
    [
        ("[" * 100_000 + "]" * 100_000, {}, "nests too deeply"),
        (None, {"config.json": b"x" * (17 * 2**20)}, "over 16 MiB"),
    ],
)
def test_a_hostile_keras_config_is_one_line(tmp_path, config, extra, why):
    path = tmp_path / "m.keras"
    if config is None:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("config.json", extra["config.json"])
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("config.json", config)
    with pytest.raises(AuditError, match=why):
        parse_target(str(path))


def test_a_huge_sparse_factory_source_is_refused_unread(tmp_path):
    # The report's case: a 6 GB sparse .py (6.3 GB peak, 22 s before).
    with (tmp_path / "huge.py").open("wb") as handle:
        handle.write(b"def build():\n    pass\n")
        handle.truncate(6 * 10**9)
    before = snapshot(tmp_path)
    measured = run_measured("audit", "huge.py:build", cwd=tmp_path)
    assert measured.code == 2
    assert f"above the {MAX_SOURCE_BYTES // 10**6} MB" in one_line(measured.stderr)
    assert measured.peak_mib < REFUSAL_PEAK_MIB, measured.peak_mib
    assert changed(before, snapshot(tmp_path)) == set()


def test_a_factory_too_deep_for_the_parser_is_one_line(tmp_path):
    (tmp_path / "deep.py").write_text("def build():\n    return " + "+".join(["1"] * 300_000) + "\n")
    before = snapshot(tmp_path)
    measured = run_measured("audit", "deep.py:build", cwd=tmp_path)
    assert measured.code == 2
    assert "nests too deeply" in one_line(measured.stderr)
    assert measured.peak_mib < 400, measured.peak_mib
    assert changed(before, snapshot(tmp_path)) == set()


@pytest.mark.keras
@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (
            "class Boom(BaseException):\n    pass\n\n\ndef build():\n    raise Boom('one\\ntwo\\nthree')\n",
            "raised Boom: one",
        ),
        ("def build():\n    raise ValueError('bad\\nworse\\nworst')\n", "raised ValueError: bad"),
        (
            "class Boom(BaseException):\n    pass\n\n\nraise Boom('at import\\nsecond line')\n"
            "\n\ndef build():\n    pass\n",
            "failed (Boom: at import)",
        ),
    ],
)
def test_a_factory_raising_anything_is_one_line(tmp_path, monkeypatch, capsys, body, fragment):
    # The factory runs in the audit's own process: in-process is the same path (test_reliability does likewise).
    (tmp_path / "f.py").write_text(body)
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "audit", "f.py:build")
    assert code == 1
    assert fragment in one_line(err)


@pytest.mark.keras
def test_a_factorys_child_process_cannot_break_json(tmp_path):
    (tmp_path / "f.py").write_text(
        "import os\n"
        "from unet_explain import UNetConfig\n"
        "from unet_explain.model.keras_unet import build_model\n\n\n"
        "def build():\n"
        "    os.system('echo from a child process')\n"
        "    os.write(1, b'straight to fd 1\\n')\n"
        "    print('a print')\n"
        "    return build_model(UNetConfig(input_size=188, depth=2, base_filters=4))\n"
    )
    measured = run_measured("audit", "f.py:build", "-f", "json", cwd=tmp_path)
    assert measured.code == 0, measured.stderr
    json.loads(measured.stdout)  # nothing else on standard output
    assert "from a child process" in measured.stderr and "straight to fd 1" in measured.stderr


# --- the Python API: what a NumPy user passes is accepted, anything else is the package's own error ---


def test_numpy_scalars_are_accepted():
    config = ue.UNetConfig(input_size=np.int64(572), depth=np.int32(4), base_filters=np.uint16(64))
    assert config == ue.UNetConfig() and type(config.input_size[0]) is int
    assert ue.UNetConfig(input_size=[np.int64(572), np.int64(572)]) == ue.UNetConfig()
    weights = ue.weight_map(touching_cells(64), w0=np.float32(10), sigma=np.int64(5))
    assert np.allclose(weights.total, ue.weight_map(touching_cells(64)).total)
    assert ue.plan_tiles([2000, 1500]) == ue.plan_tiles((2000, 1500))
    assert ue.plan_tiles((np.int64(2000), np.int32(1500))) == ue.plan_tiles((2000, 1500))


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: ue.build_spec("572"), "must be a UNetConfig"),
        (lambda: ue.receptive_field("x"), "must be a UNetConfig"),
        (lambda: parse_bytes(None), "max_memory must be a size"),
        (lambda: ue.valid_sizes(1.5, 10), "min must be a whole number; got 1.5"),
        (lambda: ue.weight_map(touching_cells(64), class_weights={0: 1}), "class_weights must be"),
        (lambda: ue.weight_map(touching_cells(64), class_weights={0: 1, 1: "x"}), "class_weights must map"),
        (lambda: diagram(highlight=123), "highlight must be stage names"),
        (lambda: diagram(highlight="x" * 100_000), "100,000 characters"),
        (lambda: ue.audit(Path("missing-model.keras")), "no such file 'missing-model.keras'"),
        (lambda: ue.audit(123), "must be a Keras model"),
        (lambda: ue.UNetConfig(input_size=np.float64(572.5)), "whole number; got np.float64(572.5)"),
        (lambda: ue.weight_map(touching_cells(64), sigma=True), "sigma must be a finite number"),
    ],
)
def test_the_api_raises_its_own_error_in_one_line(call, fragment):
    with pytest.raises(UNetExplainError) as caught:
        call()
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 400


def test_a_build_killed_by_sigkill_is_cleared_by_the_next_one(tmp_path):
    # found by the second hostile pass: SIGKILL (which nothing can catch) left .site.building-* for good
    import subprocess
    import sys

    from unet_explain.docs.site import _OWNER, _temp_prefix, remove_stale_builds

    target = tmp_path / "site"
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(done.stdout)  # that process has exited
    stale = tmp_path / (_temp_prefix("site", "building") + "dead")
    running = tmp_path / (_temp_prefix("site", "building") + "alive")
    foreign = tmp_path / (_temp_prefix("site", "building") + "foreign")
    for folder, owner in ((stale, dead_pid), (running, os.getppid())):
        folder.mkdir()
        (folder / _OWNER).write_text(f"{owner}\n", encoding="ascii")
    foreign.mkdir()  # no owner file: not ours to judge
    (tmp_path / "other.building-x").mkdir()
    assert remove_stale_builds(target) == [stale]
    assert not stale.exists() and running.exists() and foreign.exists() and (tmp_path / "other.building-x").exists()

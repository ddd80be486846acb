"""Shared by the tests/test_reliability_*.py files: scratch snapshots, tmpfs mounts, peak memory of a child.

* :func:`snapshot` records everything a careless writer could change under a
  folder (names, types, modes, link counts, symlink targets, contents), and
  :func:`changed` names what differs, so a case can assert that nothing
  changed that it did not ask for.
* :func:`tmpfs` mounts a small tmpfs under /tmp (root only; the test is skipped
  otherwise) for the full-disk and append-only cases, and always unmounts it.
* :func:`run_measured` runs the CLI in a child process and reports its exit
  status, output and peak resident memory (``RUSAGE_CHILDREN``), measured by a
  fresh Python process so that earlier children do not count.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def snapshot(root: Path) -> dict[str, tuple[Any, ...]]:
    """Everything under ``root`` that a careless writer could change."""
    seen: dict[str, tuple[Any, ...]] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            info = os.lstat(path)
            rel = str(path.relative_to(root))
            mode = stat.S_IMODE(info.st_mode)
            if stat.S_ISLNK(info.st_mode):
                seen[rel] = ("link", os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                seen[rel] = ("file", mode, info.st_nlink, _digest(path))
            else:
                seen[rel] = (stat.S_IFMT(info.st_mode), mode)
    return seen


def _digest(path: Path) -> str:
    """The content's hash; for a file over 64 MiB (the sparse hostile ones) its first and last MiB, size and mtime."""
    digest = hashlib.sha256()
    info = path.stat()
    with path.open("rb") as handle:
        if info.st_size > 64 * 2**20:
            digest.update(handle.read(1 << 20))
            handle.seek(-(1 << 20), os.SEEK_END)
            digest.update(handle.read(1 << 20))
            digest.update(f"{info.st_size} {info.st_mtime_ns}".encode())
        else:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def changed(before: dict[str, tuple[Any, ...]], after: dict[str, tuple[Any, ...]]) -> set[str]:
    """The names whose entry differs (added, removed or changed)."""
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}


@contextlib.contextmanager
def tmpfs(size: str) -> Iterator[Path]:
    """A fresh tmpfs of ``size`` (e.g. ``160k``) mounted under /tmp, unmounted afterwards (root only)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    point = Path(tempfile.mkdtemp(prefix="unet-explain-tmpfs-", dir="/tmp"))
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)], capture_output=True)
    if done.returncode != 0:
        point.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield point
    finally:
        subprocess.run(["chattr", "-R", "-a", str(point)], capture_output=True)
        subprocess.run(["umount", str(point)], check=True)
        point.rmdir()


def fill(folder: Path, leave: int) -> None:
    """Fill the file system of ``folder`` until about ``leave`` bytes are free."""
    free = shutil.disk_usage(folder).free
    with (folder / "filler").open("wb") as handle, contextlib.suppress(OSError):
        handle.write(b"\0" * max(0, free - leave))


@dataclass
class Measured:
    code: int
    stdout: str
    stderr: str
    peak_mib: float
    """Peak resident memory of the CLI process, in MiB."""


_MEASURE = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True, errors="replace")
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"code": done.returncode, "stdout": done.stdout, "stderr": done.stderr, "peak": peak}))
"""


def run_measured(*argv: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> Measured:
    """Run ``python -m unet_explain ARGV`` in ``cwd`` and measure its peak resident memory."""
    environment = os.environ | {"PYTHONPATH": str(ROOT)} | (env or {})
    command = [sys.executable, "-c", _MEASURE, sys.executable, "-m", "unet_explain", *argv]
    done = subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout)
    data = json.loads(done.stdout)
    return Measured(data["code"], data["stdout"], data["stderr"], data["peak"])


def cli(*argv: str, cwd: Path, env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """``python -m unet_explain ARGV`` as a real process in ``cwd``."""
    environment = os.environ | {"PYTHONPATH": str(ROOT)} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "unet_explain", *argv], cwd=cwd, env=environment, capture_output=True, text=True,
        **kwargs,
    )  # fmt: skip


def one_line(stderr: str) -> str:
    """The single line a failure prints (asserting there is exactly one, and no traceback)."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]

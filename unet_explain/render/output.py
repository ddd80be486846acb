"""Write rendered output to files: the format from the suffix, atomically.

A file is written to a temporary name in the target folder and renamed into
place only when complete, so a failed render (no Graphviz, a full disk, an
interrupt) never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from unet_explain.errors import MissingToolError, OutputError

GRAPHVIZ_FORMATS = ("png", "svg", "pdf")
DIAGRAM_FORMATS = (*GRAPHVIZ_FORMATS, "dot")
INSTALL_GRAPHVIZ = "install Graphviz, e.g. 'sudo apt-get install graphviz' (or run 'make run', which does it)"


def format_from_path(path: Path, explicit: str | None, allowed: tuple[str, ...]) -> str:
    """The output format: ``explicit`` if given, else the file's suffix."""
    fmt = explicit or path.suffix.lower().lstrip(".")
    if fmt not in allowed:
        if explicit:
            raise OutputError(f"format {explicit!r} is not one of {', '.join(allowed)}")
        got = f"its suffix {path.suffix!r}" if path.suffix else "a name without a suffix"
        raise OutputError(
            f"output {str(path)!r}: cannot tell the format from {got}; "
            f"end the name with one of {', '.join('.' + a for a in allowed)}, or pass --format"
        )
    return fmt


def require_dot() -> str:
    """Path of Graphviz's ``dot``, or a :class:`MissingToolError` saying how to install it."""
    dot = shutil.which("dot")
    if dot is None:
        raise MissingToolError(f"Graphviz's 'dot' program was not found on PATH; {INSTALL_GRAPHVIZ}")
    return dot


def render_graph(graph: Any, fmt: str) -> bytes:
    """Render a pydot graph to ``png``, ``svg`` or ``pdf`` bytes with Graphviz."""
    dot = require_dot()
    try:
        data: bytes = graph.create(prog=dot, format=fmt)
    except Exception as err:  # pydot raises plain exceptions for Graphviz failures
        raise MissingToolError(f"Graphviz could not render {fmt}: {str(err).strip().splitlines()[-1]}") from err
    return data


def atomic_write(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder, then rename."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"output {str(path)!r}: the folder {str(folder)!r} does not exist; create it first")
    if path.is_dir():
        raise OutputError(f"output {str(path)!r} is a folder; give a file name such as {str(path / 'unet.png')!r}")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as err:
        raise OutputError(f"output {str(path)!r}: cannot write in {str(folder)!r} ({err.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def write_text(path: Path, text: str) -> Path:
    """Atomically write UTF-8 text."""
    return atomic_write(path, text.encode("utf-8"))
